/**
 * The memory an isolation thread shares with the pool: one state word per task slot, plus a clock word.
 *
 * A busy thread may hold a few tasks queued behind the one it runs (ThreadPool's `queueDepth`). Who gets
 * to decide a queued task's fate is settled by one compare-and-swap on its slot, so it is never ambiguous
 * whether a task ran:
 * - the thread claims it (QUEUED → RUNNING) right before it starts it;
 * - the pool takes it back (QUEUED → REVOKED) to run it elsewhere, or to end it unstarted.
 * Whichever swap wins, the other side sees it lose. A RUNNING task finishes as DONE; the slot goes back to
 * FREE once the pool has read the thread's last message about it.
 *
 * The clock word tells the pool whether the thread is flowing: the time (ms, modulo 2^31) its current task
 * started, or IDLE between tasks. The pool only queues onto a thread whose current task started moments ago.
 */
export const SLOT = { free: 0, queued: 1, running: 2, done: 3, revoked: 4 } as const;

/** The clock word's value while the thread runs no task. */
export const CLOCK_IDLE = -1;
const CLOCK_MASK = 0x7fffffff;

export interface SlotMemory {
  readonly buffer: SharedArrayBuffer;
  readonly count: number;
}

/** Memory for `count` slots and the clock word, to hand to a new thread in its workerData. */
export function createSlotMemory(count: number): SlotMemory {
  const buffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * (count + 1));
  const words = new Int32Array(buffer);
  words[count] = CLOCK_IDLE;
  return { buffer, count };
}

/** Milliseconds, wrapped to 31 bits: differences of these stay right for 24 days. */
export const clockNow = (): number => Date.now() & CLOCK_MASK;

/** The pool's view of a thread's slots. */
export class PoolSlots {
  readonly #words: Int32Array;
  readonly #count: number;
  readonly #free: number[];

  constructor(memory: SlotMemory) {
    this.#words = new Int32Array(memory.buffer);
    this.#count = memory.count;
    this.#free = Array.from({ length: memory.count }, (_, i) => memory.count - 1 - i);
  }

  get available(): number {
    return this.#free.length;
  }

  /** Reserves a slot as QUEUED for a task about to be posted; undefined when all are in use. */
  take(): number | undefined {
    const slot = this.#free.pop();
    if (slot !== undefined) Atomics.store(this.#words, slot, SLOT.queued);
    return slot;
  }

  /** Gives a slot back once the thread can no longer speak of it (its last message was read). */
  release(slot: number): void {
    Atomics.store(this.#words, slot, SLOT.free);
    this.#free.push(slot);
  }

  /** Takes a queued task back before its thread starts it. False when the thread got there first. */
  revoke(slot: number): boolean {
    return Atomics.compareExchange(this.#words, slot, SLOT.queued, SLOT.revoked) === SLOT.queued;
  }

  state(slot: number): number {
    return Atomics.load(this.#words, slot);
  }

  /**
   * How long the thread has been on its current task, in ms; 0 when it is between tasks. A thread whose
   * task started moments ago is flowing: tasks queued on it will most likely start soon.
   */
  busyForMs(now = clockNow()): number {
    const started = Atomics.load(this.#words, this.#count);
    return started === CLOCK_IDLE ? 0 : (now - started) & CLOCK_MASK;
  }
}

/** The thread's view of its slots. */
export class ThreadSlots {
  readonly #words: Int32Array;
  readonly #count: number;

  constructor(memory: SlotMemory) {
    this.#words = new Int32Array(memory.buffer);
    this.#count = memory.count;
  }

  /** Claims a queued task to start it now; false when the pool took it back. */
  claim(slot: number): boolean {
    Atomics.store(this.#words, this.#count, clockNow());
    if (Atomics.compareExchange(this.#words, slot, SLOT.queued, SLOT.running) === SLOT.queued) return true;
    Atomics.store(this.#words, this.#count, CLOCK_IDLE);
    return false;
  }

  /** The task of `slot` has ended (its last message is about to be posted). */
  finish(slot: number): void {
    Atomics.store(this.#words, slot, SLOT.done);
    Atomics.store(this.#words, this.#count, CLOCK_IDLE);
  }
}
