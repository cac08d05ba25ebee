/**
 * Pure: notices a running run that its live executor no longer lists in its heartbeats. An executor lists
 * a run from the moment it dequeues it until Redis holds its `finished` event, so a run missing from
 * `missedBeats` consecutive beats (distinct `at`, later than the run's start, spanning `minMissSpanMs`)
 * has been lost by the executor (e.g. a thread crash that never reported).
 */
import type { Heartbeat } from '@kisjobs/protocol';

export interface MissTrackerOptions {
  readonly missedBeats: number;
  readonly minMissSpanMs: number;
}

interface Misses {
  count: number;
  firstAt: number;
  lastAt: number;
}

export class MissTracker {
  readonly #o: MissTrackerOptions;
  readonly #misses = new Map<string, Misses>();
  readonly #listed = new WeakMap<Heartbeat, ReadonlySet<string>>();

  constructor(options: MissTrackerOptions) {
    this.#o = options;
  }

  /** True when `runId` has now been missing long enough from `heartbeat`'s executor. */
  observe(runId: string, startedAt: Date | null, heartbeat: Heartbeat): boolean {
    if (this.#runIdsOf(heartbeat).has(runId)) {
      this.#misses.delete(runId);
      return false;
    }
    const beatAt = Date.parse(heartbeat.at);
    if (startedAt !== null && beatAt <= startedAt.getTime()) return false;
    const seen = this.#misses.get(runId);
    if (seen === undefined) {
      this.#misses.set(runId, { count: 1, firstAt: beatAt, lastAt: beatAt });
      return this.#enough({ count: 1, firstAt: beatAt, lastAt: beatAt });
    }
    if (beatAt > seen.lastAt) {
      seen.count += 1;
      seen.lastAt = beatAt;
    }
    return this.#enough(seen);
  }

  /** Forgets runs that are not running any more. */
  retain(runIds: ReadonlySet<string>): void {
    for (const id of this.#misses.keys()) if (!runIds.has(id)) this.#misses.delete(id);
  }

  /** Forgets every miss counted so far. */
  clear(): void {
    this.#misses.clear();
  }

  get size(): number {
    return this.#misses.size;
  }

  #enough(misses: Misses): boolean {
    return misses.count >= this.#o.missedBeats && misses.lastAt - misses.firstAt >= this.#o.minMissSpanMs;
  }

  #runIdsOf(heartbeat: Heartbeat): ReadonlySet<string> {
    let ids = this.#listed.get(heartbeat);
    if (ids === undefined) {
      ids = new Set(heartbeat.runIds);
      this.#listed.set(heartbeat, ids);
    }
    return ids;
  }
}
