/**
 * The registry stream consumer's handler: registrations are recorded in Postgres, refusals logged (one
 * clear line; no history row, the executor never existed), deregistrations marked and reported so the
 * executor's direct queue is routed again at once. Entries are settled one by one as they are handled, so
 * a failure (Postgres down) re-delivers only the entries not yet recorded.
 */
import type { Redis } from 'ioredis';
import { tokenHash, type Keyspace, type RegistrationRejected } from '@kisjobs/protocol';
import type { Logger } from './ports.js';
import type { ExecutorRecorder } from './recorder.js';
import { decodeRegistryEntry } from './entries.js';
import type { DeadLetter, StreamEntry, StreamGroup } from '../ingest/stream-group.js';

export interface RegistryStreamOptions {
  readonly recorder: ExecutorRecorder;
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly logger: Logger;
  readonly group: StreamGroup;
}

export function refusalLine(rejection: Pick<RegistrationRejected, 'instanceId' | 'host' | 'group'>): string {
  return `executor ${rejection.instanceId} on host ${rejection.host} was refused for group ${rejection.group}: invalid registration token`;
}

export class RegistryStreamHandler {
  readonly #o: RegistryStreamOptions;

  constructor(options: RegistryStreamOptions) {
    this.#o = options;
  }

  async handle(entries: readonly StreamEntry[]): Promise<void> {
    for (const entry of entries) {
      const dead = await this.#handleOne(entry);
      await this.#o.group.settle([entry], dead === undefined ? [] : [dead]);
    }
  }

  async #handleOne(entry: StreamEntry): Promise<DeadLetter | undefined> {
    if (entry.fields === null) return undefined;
    const { recorder, redis, keyspace: ks, logger } = this.#o;
    const decoded = decodeRegistryEntry(entry.fields);
    switch (decoded.kind) {
      case 'registered':
        await recorder.registered(decoded.record, 'stream');
        return undefined;
      case 'registration': {
        // A writer that did not check the token itself: check it here; the token is never stored.
        const { token, ...record } = decoded.request;
        const group = await redis.get(ks.registrationToken(tokenHash(token)));
        if (group === record.group) await recorder.registered(record, 'stream');
        else this.#refused({ ...record, reason: 'invalid token' });
        return undefined;
      }
      case 'rejected':
        this.#refused(decoded.rejection);
        return undefined;
      case 'deregistered': {
        const { instanceId, reason } = decoded.deregistration;
        const changed = await recorder.offline([instanceId], 'deregistered', { reason });
        // A re-delivered entry may have been recorded before the crash that re-delivers it, without its
        // notification: report again unless the executor is live again.
        const again =
          entry.redelivered && changed.length === 0 && (await redis.exists(ks.heartbeat(instanceId))) === 0;
        await recorder.notifyOffline(again ? [instanceId] : changed);
        return undefined;
      }
      case 'invalid':
        logger.warn('registry entry sent to the dead-letter stream', {
          id: entry.id,
          reason: decoded.reason,
        });
        return { entry, reason: decoded.reason };
    }
  }

  #refused(
    rejection: Pick<RegistrationRejected, 'instanceId' | 'host' | 'group'> & { reason: string },
  ): void {
    this.#o.recorder.counters.rejections += 1;
    this.#o.logger.warn(refusalLine(rejection), {
      code: 'EXECUTOR_TOKEN_INVALID',
      instanceId: rejection.instanceId,
      host: rejection.host,
      group: rejection.group,
      reason: rejection.reason,
    });
  }
}
