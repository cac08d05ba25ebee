/**
 * A simulated executor at the PROTOCOL level, for the registry, ingest and lost-run tests: it writes the
 * Redis keys and stream entries a real executor writes (packages/executor/src/registration.ts and
 * events-writer.ts), without running flows. `stopBeating()` is a SIGKILL as Redis sees it: the heartbeat
 * key simply expires.
 */
import type { Redis } from 'ioredis';
import {
  HEARTBEAT_TTL_MS,
  STREAM_FIELDS,
  encodePayload,
  newId,
  tokenHash,
  type ExecutorRecord,
  type Keyspace,
  type RedisPayloadInput,
  type RunEvent,
} from '@kisjobs/protocol';

// The executor's registration script, verbatim in behaviour.
const REGISTER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[3])
  redis.call('SADD', KEYS[3], ARGV[2])
  redis.call('SADD', KEYS[4], ARGV[1])
  redis.call('SET', KEYS[5], ARGV[4], 'PX', ARGV[5])
  redis.call('XADD', KEYS[6], '*', ARGV[7], ARGV[8], ARGV[10], ARGV[3])
  return 1
end
redis.call('XADD', KEYS[6], '*', ARGV[7], ARGV[9], ARGV[10], ARGV[6])
return 0
`;
const HEARTBEAT = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`;
const DEREGISTER = `
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('XADD', KEYS[4], '*', ARGV[3], ARGV[4], ARGV[5], ARGV[2])
return 1
`;

export interface SimExecutorOptions {
  readonly group: string;
  readonly token: string;
  readonly instanceId?: string;
  readonly host?: string;
  readonly functions?: readonly string[];
  readonly ttlMs?: number;
}

export class SimExecutor {
  readonly record: ExecutorRecord;
  readonly #redis: Redis;
  readonly #ks: Keyspace;
  readonly #token: string;
  readonly #ttlMs: number;
  #timer: NodeJS.Timeout | undefined;
  #seq = new Map<string, number>();
  runIds: string[] = [];
  draining = false;

  constructor(redis: Redis, ks: Keyspace, options: SimExecutorOptions) {
    this.#redis = redis;
    this.#ks = ks;
    this.#token = options.token;
    this.#ttlMs = options.ttlMs ?? HEARTBEAT_TTL_MS;
    this.record = {
      group: options.group,
      instanceId: options.instanceId ?? `sim-${newId('exe').slice(4)}`,
      host: options.host ?? 'sim-host',
      pid: 4242,
      version: '1.0.0',
      functions: [...(options.functions ?? ['f1', 'f2'])],
      connectorTypes: ['memory'],
      concurrency: 4,
      startedAt: new Date().toISOString(),
    };
  }

  get id(): string {
    return this.record.instanceId;
  }

  heartbeat(): RedisPayloadInput<'heartbeat'> {
    return {
      instanceId: this.id,
      at: new Date().toISOString(),
      activeRuns: this.runIds.length,
      load: 0.1,
      runIds: [...this.runIds],
      draining: this.draining,
    };
  }

  async register(): Promise<boolean> {
    const ks = this.#ks;
    const rejection = JSON.stringify({
      group: this.record.group,
      instanceId: this.id,
      host: this.record.host,
      reason: 'invalid token',
      at: new Date().toISOString(),
    });
    const result = await this.#redis.eval(
      REGISTER,
      6,
      ks.registrationToken(tokenHash(this.#token)),
      ks.executor(this.id),
      ks.groupMembers(this.record.group),
      ks.groups(),
      ks.heartbeat(this.id),
      ks.registryStream(),
      this.record.group,
      this.id,
      encodePayload('executorRecord', this.record),
      encodePayload('heartbeat', this.heartbeat()),
      String(this.#ttlMs),
      rejection,
      STREAM_FIELDS.kind,
      'executorRecord',
      'registrationRejected',
      STREAM_FIELDS.payload,
    );
    return result === 1;
  }

  async beat(): Promise<'ok' | 'missing'> {
    const result = await this.#redis.eval(
      HEARTBEAT,
      2,
      this.#ks.executor(this.id),
      this.#ks.heartbeat(this.id),
      encodePayload('heartbeat', this.heartbeat()),
      String(this.#ttlMs),
    );
    return result === 1 ? 'ok' : 'missing';
  }

  /** Beats every `intervalMs` (default 2 s, like the real executor). */
  startBeating(intervalMs = 2_000): void {
    this.stopBeating();
    this.#timer = setInterval(() => void this.beat().catch(() => undefined), intervalMs);
  }

  /** What a SIGKILL looks like from Redis: no more beats; the key expires by its TTL. */
  stopBeating(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async deregister(reason = 'shutdown'): Promise<void> {
    this.stopBeating();
    const ks = this.#ks;
    await this.#redis.eval(
      DEREGISTER,
      4,
      ks.executor(this.id),
      ks.heartbeat(this.id),
      ks.groupMembers(this.record.group),
      ks.registryStream(),
      this.id,
      encodePayload('deregistration', {
        group: this.record.group,
        instanceId: this.id,
        reason,
        at: new Date().toISOString(),
      }),
      STREAM_FIELDS.kind,
      'deregistration',
      STREAM_FIELDS.payload,
    );
  }

  #next(runId: string): number {
    const seq = this.#seq.get(runId) ?? 0;
    this.#seq.set(runId, seq + 1);
    return seq;
  }

  started(runId: string, at = new Date()): RunEvent {
    return { ...this.#base(runId, at), type: 'started' };
  }

  log(runId: string, message: string, at = new Date()): RunEvent {
    return { ...this.#base(runId, at), type: 'log', level: 'info', funcName: 'f1', message };
  }

  finished(runId: string, status: 'succeeded' | 'failed' = 'succeeded', at = new Date()): RunEvent {
    return {
      ...this.#base(runId, at),
      type: 'finished',
      status,
      summary: [
        { step: 0, funcName: 'f1', mode: 'Calculate', rowsIn: 1, rowsOut: 2, durationMs: 5, attempts: 1 },
      ],
      outputRows: 2,
      ...(status === 'succeeded' ? {} : { error: { code: 'FUNCTION_FAILED', message: 'boom' } }),
    };
  }

  #base(runId: string, at: Date) {
    return {
      eventId: newId('evt'),
      runId,
      attempt: 1,
      instanceId: this.id,
      seq: this.#next(runId),
      at: at.toISOString(),
    };
  }
}

/** XADDs events the way the executor's events writer does (one pipeline). Returns the entry ids. */
export async function emitEvents(redis: Redis, ks: Keyspace, events: readonly RunEvent[]): Promise<string[]> {
  const pipeline = redis.pipeline();
  for (const event of events) {
    pipeline.xadd(
      ks.streamForRunEvent(event.type),
      '*',
      STREAM_FIELDS.kind,
      'runEvent',
      STREAM_FIELDS.payload,
      encodePayload('runEvent', event),
    );
  }
  const results = (await pipeline.exec()) ?? [];
  return results.map(([error, id]) => {
    if (error !== null) throw error;
    return String(id);
  });
}
