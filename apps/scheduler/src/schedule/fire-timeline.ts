/**
 * The engine's in-memory agenda: planned fires ordered by instant (a binary min-heap), taken in batches
 * once their instant has come. Entries of a plan that was voided are skipped when taken (lazy deletion).
 * Pure data structure: no timers, no clock.
 */

export interface TimelineEntry {
  /** The instant, ms since epoch. */
  readonly at: number;
}

export class FireTimeline<E extends TimelineEntry> {
  readonly #heap: E[] = [];

  get size(): number {
    return this.#heap.length;
  }

  /** The earliest instant waiting, if any. */
  peekAt(): number | undefined {
    return this.#heap[0]?.at;
  }

  add(entry: E): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as E;
      if (p.at <= entry.at) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = entry;
  }

  /** Removes and returns up to `limit` entries whose instant is at or before `nowMs`, earliest first. */
  takeDue(nowMs: number, limit: number, keep: (entry: E) => boolean = () => true): E[] {
    const out: E[] = [];
    while (out.length < limit) {
      const top = this.#heap[0];
      if (top === undefined || top.at > nowMs) break;
      this.#pop();
      if (keep(top)) out.push(top);
    }
    return out;
  }

  /** Removes every entry for which `drop` holds (O(n); for shutdown and bulk cancellation). */
  removeWhere(drop: (entry: E) => boolean): E[] {
    const removed: E[] = [];
    const kept: E[] = [];
    for (const entry of this.#heap) (drop(entry) ? removed : kept).push(entry);
    this.#heap.length = 0;
    for (const entry of kept.sort((a, b) => a.at - b.at)) this.#heap.push(entry);
    return removed;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && (heap[right] as E).at < (heap[left] as E).at ? right : left;
      if ((heap[child] as E).at >= last.at) break;
      heap[i] = heap[child] as E;
      i = child;
    }
    heap[i] = last;
  }
}
