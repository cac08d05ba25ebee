/**
 * Plays the scheduler's side of the executor protocol directly at the Redis level (the scheduler is built
 * separately): mirror a group token, enqueue RunRequests in BullMQ with the shared keyspace, read the run
 * events and registry streams, publish control messages, set cancel flags.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  CANCEL_FLAG_TTL_MS,
  createKeyspace,
  decodePayload,
  encodePayload,
  newId,
  tokenHash,
  type ControlMessage,
  type Keyspace,
  type RunEvent,
  type RunFinishedEvent,
  type RunRequest,
} from '@kisjobs/protocol';
import { waitFor } from '@kisjobs/testing';
import { CONFIG, type FlowName } from '../fixtures/flows.js';

export const GROUP = 'etl';

export function newToken(): string {
  return `kjs_test_${newId('tok').slice(4)}`;
}

export function runRequest(flowName: FlowName, overrides: Partial<RunRequest> = {}): RunRequest {
  const now = new Date().toISOString();
  return {
    runId: newId('run'),
    jobId: newId('job'),
    flowName,
    flow: CONFIG as unknown as Record<string, unknown>,
    params: {},
    attempt: 1,
    maxAttempts: 1,
    timeoutMs: 30_000,
    scheduledAt: now,
    triggerType: 'manual',
    triggeredBy: 'usr_test',
    shardIndex: 0,
    shardTotal: 1,
    routing: { group: GROUP, strategy: 'any' },
    enqueuedAt: now,
    ...overrides,
  };
}

export interface StreamEntry {
  readonly id: string;
  readonly fields: Readonly<Record<string, string>>;
}

export class SchedulerSide {
  readonly ks: Keyspace;
  readonly #redis: Redis;
  readonly #queues = new Map<string, Queue>();

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.ks = createKeyspace(prefix);
  }

  get redis(): Redis {
    return this.#redis;
  }

  /** What the scheduler does for every valid group token: key by hash → group name. */
  async seedToken(token: string, group = GROUP): Promise<void> {
    await this.#redis.set(this.ks.registrationToken(tokenHash(token)), group);
  }

  queue(name: string): Queue {
    let queue = this.#queues.get(name);
    if (queue === undefined) {
      queue = new Queue(name, { connection: this.#redis, prefix: this.ks.bullPrefix });
      queue.on('error', () => undefined); // outages are the point of some tests
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /** Enqueues a run (validated like the scheduler would) on the group queue, or a direct queue. */
  async enqueue(
    request: RunRequest,
    target?: { instanceId: string },
    options: { delayMs?: number } = {},
  ): Promise<RunRequest> {
    encodePayload('runRequest', request);
    const name =
      target === undefined
        ? this.ks.groupQueue(request.routing.group)
        : this.ks.directQueue(target.instanceId);
    await this.queue(name).add('run', request, {
      jobId: request.runId,
      ...(options.delayMs === undefined ? {} : { delay: options.delayMs }),
    });
    return request;
  }

  /** Enqueues anything at all (for invalid payload tests). */
  async enqueueRaw(data: unknown, jobId: string, group = GROUP): Promise<void> {
    await this.queue(this.ks.groupQueue(group)).add('run', data, { jobId });
  }

  async entries(stream: string): Promise<StreamEntry[]> {
    const raw = await this.#redis.xrange(stream, '-', '+');
    return raw.map(([id, flat]) => {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
      return { id, fields };
    });
  }

  /** Every event of a run from both streams, decoded (a bad entry fails the test), ordered by seq. */
  async events(runId: string): Promise<RunEvent[]> {
    const all = [
      ...(await this.entries(this.ks.runEventsStream())),
      ...(await this.entries(this.ks.runLogsStream())),
    ];
    const events: RunEvent[] = [];
    for (const entry of all) {
      if (entry.fields['kind'] !== 'runEvent') throw new Error(`unexpected kind ${entry.fields['kind']}`);
      const decoded = decodePayload('runEvent', entry.fields['payload'] ?? '');
      if (!decoded.ok) throw decoded.error;
      if (decoded.value.runId === runId) events.push(decoded.value);
    }
    return events.sort((a, b) => a.seq - b.seq);
  }

  async finished(runId: string, timeoutMs = 15_000): Promise<RunFinishedEvent> {
    return waitFor(
      async () => (await this.events(runId)).find((e): e is RunFinishedEvent => e.type === 'finished'),
      { timeoutMs, intervalMs: 20, message: `finished event of ${runId}` },
    );
  }

  async waitForEvent(runId: string, type: RunEvent['type'], timeoutMs = 15_000): Promise<RunEvent> {
    return waitFor(async () => (await this.events(runId)).find((e) => e.type === type), {
      timeoutMs,
      intervalMs: 20,
      message: `${type} event of ${runId}`,
    });
  }

  async publish(message: ControlMessage, instanceId?: string): Promise<void> {
    const channel =
      instanceId === undefined ? this.ks.controlChannel() : this.ks.executorControlChannel(instanceId);
    await this.#redis.publish(channel, encodePayload('control', message));
  }

  async terminate(runId: string, reason = 'operator request'): Promise<void> {
    await this.publish({
      type: 'terminate',
      runId,
      reason,
      requestedBy: 'usr_test',
      at: new Date().toISOString(),
    });
  }

  async setCancelFlag(runId: string, reason = 'terminated before pickup'): Promise<void> {
    const flag = encodePayload('cancelFlag', {
      type: 'terminate',
      runId,
      reason,
      requestedBy: 'usr_test',
      at: new Date().toISOString(),
    });
    await this.#redis.set(this.ks.cancelFlag(runId), flag, 'PX', CANCEL_FLAG_TTL_MS);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
    this.#queues.clear();
  }
}
