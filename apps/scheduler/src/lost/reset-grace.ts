/**
 * The detector's own view of a Redis reset (FLUSHALL, a restart without persistence, a failover to an
 * empty replica). A reset takes every heartbeat key and every queued job with it: live executors only
 * re-register at their next beat, and the dispatcher re-enqueues pending runs a few seconds later, so
 * for `graceMs` (default one heartbeat TTL plus margin) after a reset nothing may be judged lost from
 * what Redis lacks. The epoch key is the one `schedule/redis-reset.ts` maintains; this only reads it, at
 * every sweep, after the heartbeats were read, so a reset before that read is always noticed (a watch
 * callback could come a second late, after the detector had judged).
 */
import type { Redis } from 'ioredis';
import { HEARTBEAT_TTL_MS, type Keyspace } from '@kisjobs/protocol';
import { epochKey } from '../schedule/redis-reset.js';

/** Default grace: one heartbeat TTL, plus two beats and the redispatch repeat of the reset watch. */
export const RESET_GRACE_MS = HEARTBEAT_TTL_MS + 4_000;

const MISSING = '\u0000missing';

export class ResetGrace {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #graceMs: number;
  readonly #now: () => number;
  #seen: string | undefined;
  #until = Number.NEGATIVE_INFINITY;

  constructor(redis: Redis, keyspace: Keyspace, graceMs = RESET_GRACE_MS, now = () => performance.now()) {
    this.#redis = redis;
    this.#key = epochKey(keyspace);
    this.#graceMs = graceMs;
    this.#now = now;
  }

  /**
   * Reads the epoch; true while within `graceMs` of a reset (the key vanished or changed since the last
   * read). The key appearing where there was none is not a reset: the watch writes the first epoch after
   * the detector may have started (a vanished key already started the grace). `onReset` runs when a reset
   * is noticed.
   */
  async holding(onReset?: () => void): Promise<boolean> {
    const value = (await this.#redis.get(this.#key)) ?? MISSING;
    const changed = this.#seen !== undefined && this.#seen !== MISSING && value !== this.#seen;
    this.#seen = value;
    if (changed) {
      this.#until = this.#now() + this.#graceMs;
      onReset?.();
    }
    return this.#now() < this.#until;
  }
}
