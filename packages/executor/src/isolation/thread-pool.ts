import { Worker } from 'node:worker_threads';
import type { ResourceLimits } from 'node:worker_threads';
import type { FromThread, TaskPost, ToThread } from './messages.js';
import { PoolSlots, SLOT, clockNow, createSlotMemory } from './thread-slots.js';

/**
 * A pool of worker threads. Each thread runs one task at a time; a task that must stop (terminate,
 * timeout) is first asked to stop cooperatively through its AbortSignal, and if it has not finished after
 * `cancelGraceMs` its thread is terminated (this interrupts even a synchronous `while (true) {}`) and
 * replaced, so the other tasks of the pool go on untouched.
 *
 * Short tasks would otherwise spread over many threads: every task handed out in one event-loop turn
 * would wake a thread of its own, and each of those isolates pays its own compilation and garbage
 * collection. So a task may be queued behind the task of a thread that is flowing (its current task
 * started less than `queueHoldMs` ago), up to `queueDepth` deep. A queued task that its thread has not
 * started within `queueHoldMs` is taken back and given to a free thread; whether the thread started it or
 * the pool took it back is decided by one atomic swap (thread-slots.ts), so a task never runs twice, and a
 * thread killed for its current task never takes a queued task down with it.
 */
export interface ThreadPoolOptions {
  /** Absolute path of the thread's main module (it calls `serveTasks`). May be .ts. */
  readonly entry: string;
  /** Most threads at once: the executor's concurrency. */
  readonly size: number;
  /** Handed to the thread main as `workerData.data` (must be structured-cloneable). */
  readonly data?: unknown;
  /** How long a cooperative cancel may take before the thread is killed. Default 300 ms. */
  readonly cancelGraceMs?: number;
  /** How long a new thread may take to load its entry. Default 30 s. */
  readonly startTimeoutMs?: number;
  /**
   * How many threads may be starting at once (default 2). Starting a thread costs a few hundred ms of CPU
   * (loader, engine, functions module); starting dozens together on a small machine makes each start take
   * the sum of them, so they start a few at a time and the start timeout measures one start.
   */
  readonly maxConcurrentStarts?: number;
  /** Tasks a flowing thread may hold queued behind its current one. Default 8; 0 gives every task a free thread. */
  readonly queueDepth?: number;
  /** How long a queued task may wait for its thread before it goes to a free one. Default 2 ms. */
  readonly queueHoldMs?: number;
  readonly resourceLimits?: ResourceLimits;
}

export type StopReason = 'cancelled' | 'timeout';

export type TaskOutcome<TOutput> =
  /** The task returned. `stopReason` is set when a stop had been requested before it returned. */
  | { readonly kind: 'done'; readonly output: TOutput; readonly stopReason?: StopReason }
  /** The task did not stop in time after a stop request; its thread was terminated. Or it never started. */
  | { readonly kind: 'killed'; readonly stopReason: StopReason }
  /** The thread died under the task (uncaught error, out of memory, exit). */
  | { readonly kind: 'crashed'; readonly message: string };

export interface RunTaskOptions<TEvent> {
  readonly onEvent?: (event: TEvent) => void;
  /**
   * Whole-task time limit, counted from the moment the task is handed to its thread (time spent waiting
   * for a free thread does not count); at expiry the task is stopped with reason 'timeout'.
   */
  readonly timeoutMs?: number;
}

export interface ThreadPoolStats {
  readonly threads: number;
  readonly busy: number;
  readonly waiting: number;
  /** Threads starting now (at most `maxConcurrentStarts`). */
  readonly starting: number;
  /** Threads terminated because a task would not stop, or that crashed. */
  readonly replaced: number;
  /** Queued tasks taken back from a thread that had not started them, to run on another. */
  readonly reclaimed: number;
}

interface PoolThread {
  readonly worker: Worker;
  readonly slots: PoolSlots;
  readonly ready: Promise<void>;
  isReady: boolean;
  /** Tasks posted to the thread whose end the pool has not read yet, in the order they were posted. */
  readonly tasks: ActiveTask[];
  /** The task each slot was posted with; a taken-back task stays until the thread says it skipped it. */
  readonly bySlot: Map<number, ActiveTask>;
  /** A task waiting for this thread to finish starting. */
  reservedFor?: ActiveTask;
  deathMessage?: string;
}

interface ActiveTask {
  readonly taskId: string;
  readonly input: unknown;
  thread?: PoolThread;
  slot?: number;
  /** False once taken back from a queue: from then on it only goes to a free thread. */
  mayQueue: boolean;
  stopReason?: StopReason;
  killTimer?: NodeJS.Timeout;
  timeoutTimer?: NodeJS.Timeout;
  readonly timeoutMs?: number;
  settle(outcome: TaskOutcome<unknown>): void;
  onEvent?: (event: unknown) => void;
}

interface QueuedTask {
  readonly task: ActiveTask;
  readonly thread: PoolThread;
  readonly slot: number;
  readonly at: number;
}

const bootstrapUrl = new URL('./thread-bootstrap.mjs', import.meta.url);
const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export class ThreadPool<TInput, TEvent, TOutput> {
  /** Ready threads without a task; the one freed last on top, since its code and heap are warm. */
  private readonly idle: PoolThread[] = [];
  private readonly busy = new Set<PoolThread>();
  private readonly all = new Set<PoolThread>();
  private readonly tasks = new Map<string, ActiveTask>();
  /** Tasks that found no thread, first come first served. */
  private readonly waiting: ActiveTask[] = [];
  /** Tasks queued behind another, oldest first, to take back if their thread does not get to them. */
  private readonly queued: QueuedTask[] = [];
  private readonly startEnded: Array<() => void> = [];
  private sweepTimer: NodeJS.Timeout | undefined;
  private replaced = 0;
  private reclaimed = 0;
  private closed = false;
  private starting = 0;
  private readonly cancelGraceMs: number;
  private readonly startTimeoutMs: number;
  private readonly maxConcurrentStarts: number;
  private readonly queueDepth: number;
  private readonly queueHoldMs: number;
  private readonly slotCount: number;

  constructor(private readonly options: ThreadPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1)
      throw new RangeError('size must be a positive integer');
    this.cancelGraceMs = options.cancelGraceMs ?? 300;
    this.startTimeoutMs = options.startTimeoutMs ?? 30_000;
    this.maxConcurrentStarts = Math.max(1, options.maxConcurrentStarts ?? 2);
    this.queueDepth = Math.max(0, Math.floor(options.queueDepth ?? 8));
    this.queueHoldMs = Math.max(0, options.queueHoldMs ?? 2);
    // Taken-back tasks hold their slot until the thread skips them, so leave room beyond the queue.
    this.slotCount = 4 * (this.queueDepth + 1);
  }

  /** Starts threads ahead of the first tasks, so the first runs do not pay for thread start-up. */
  async warm(count = this.options.size): Promise<void> {
    const target = Math.min(count, this.options.size);
    const starts: Promise<void>[] = [];
    while (!this.closed && this.all.size < target) {
      if (this.starting >= this.maxConcurrentStarts) {
        await new Promise<void>((resolve) => this.startEnded.push(resolve));
        continue;
      }
      starts.push(this.spawn().ready.catch(() => undefined));
    }
    await Promise.all(starts);
  }

  async run(
    taskId: string,
    input: TInput,
    options: RunTaskOptions<TEvent> = {},
  ): Promise<TaskOutcome<TOutput>> {
    if (this.closed) throw new Error('thread pool is closed');
    if (this.tasks.has(taskId)) throw new Error(`task ${taskId} is already running`);
    return new Promise<TaskOutcome<TOutput>>((resolve) => {
      // The task is known (and stoppable) from this moment, even while it waits for a thread.
      const task: ActiveTask = {
        taskId,
        input,
        mayQueue: true,
        settle: (outcome) => {
          if (this.tasks.get(taskId) !== task) return;
          this.tasks.delete(taskId);
          clearTimeout(task.killTimer);
          clearTimeout(task.timeoutTimer);
          resolve(outcome as TaskOutcome<TOutput>);
        },
        onEvent: options.onEvent as ((event: unknown) => void) | undefined,
        timeoutMs: options.timeoutMs,
      };
      this.tasks.set(taskId, task);
      this.place(task);
    });
  }

  /** Asks a running task to stop; kills its thread if it has not finished after the grace period. */
  stop(taskId: string, reason: StopReason = 'cancelled'): boolean {
    const task = this.tasks.get(taskId);
    if (task === undefined) return false;
    if (task.stopReason !== undefined) return true;
    task.stopReason = reason;
    const thread = task.thread;
    if (thread === undefined || this.takeBack(task)) {
      // It had not started (waiting for a thread, or queued): it ends now and never runs.
      task.settle({ kind: 'killed', stopReason: reason });
      return true;
    }
    const cancel: ToThread<TInput> = { type: 'cancel', taskId, reason };
    thread.worker.postMessage(cancel);
    task.killTimer = setTimeout(() => {
      if (this.tasks.get(taskId) !== task) return;
      task.settle({ kind: 'killed', stopReason: reason });
      this.discard(thread, 'isolation thread was terminated');
    }, this.cancelGraceMs);
    return true;
  }

  isRunning(taskId: string): boolean {
    return this.tasks.has(taskId);
  }

  stats(): ThreadPoolStats {
    return {
      threads: this.all.size,
      busy: this.tasks.size,
      waiting: this.waiting.length,
      starting: this.starting,
      replaced: this.replaced,
      reclaimed: this.reclaimed,
    };
  }

  /** Terminates every thread. Running tasks settle as crashed. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.sweepTimer);
    const threads = [...this.all];
    for (const task of [...this.tasks.values()])
      task.settle({ kind: 'crashed', message: 'thread pool closed' });
    this.all.clear();
    this.busy.clear();
    this.idle.length = 0;
    this.waiting.length = 0;
    this.queued.length = 0;
    for (const resolve of this.startEnded.splice(0)) resolve();
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  /** Finds the task a thread: a flowing thread's queue, a free thread, a new thread, or the waiting line. */
  private place(task: ActiveTask): void {
    if (this.closed || this.tasks.get(task.taskId) !== task) return;
    const thread = (task.mayQueue ? this.flowingThread() : undefined) ?? this.freeThread();
    if (thread !== undefined) this.hand(thread, task);
    else if (this.canSpawn()) this.spawn(task);
    else this.waiting.push(task);
  }

  /** The busy thread with the shortest queue among those whose current task started moments ago. */
  private flowingThread(): PoolThread | undefined {
    if (this.queueDepth === 0) return undefined;
    const now = clockNow();
    let best: PoolThread | undefined;
    let bestLoad = this.queueDepth + 1;
    for (const thread of this.busy) {
      if (thread.slots.available === 0 || thread.slots.busyForMs(now) > this.queueHoldMs) continue;
      const load = this.pendingOn(thread);
      if (load < bestLoad) {
        best = thread;
        bestLoad = load;
      }
    }
    return best;
  }

  /** Tasks of the thread that are queued or running (its ended ones may not have been read yet). */
  private pendingOn(thread: PoolThread): number {
    let load = 0;
    for (const task of thread.tasks) {
      const state = task.slot === undefined ? SLOT.free : thread.slots.state(task.slot);
      if (state === SLOT.queued || state === SLOT.running) load++;
    }
    return load;
  }

  private freeThread(): PoolThread | undefined {
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const thread = this.idle[i];
      if (thread !== undefined && thread.slots.available > 0) {
        this.idle.splice(i, 1);
        return thread;
      }
    }
    return undefined;
  }

  private canSpawn(): boolean {
    return !this.closed && this.all.size < this.options.size && this.starting < this.maxConcurrentStarts;
  }

  /** Posts the task to a ready thread with a free slot. */
  private hand(thread: PoolThread, task: ActiveTask): void {
    const index = this.idle.indexOf(thread);
    if (index >= 0) this.idle.splice(index, 1);
    const slot = thread.slots.take();
    if (slot === undefined) {
      // Not expected (callers check for a free slot); never lose the task over it.
      this.waiting.push(task);
      this.refile(thread);
      return;
    }
    const post: TaskPost<TInput> = { type: 'task', taskId: task.taskId, slot, input: task.input as TInput };
    try {
      thread.worker.postMessage(post);
    } catch (error) {
      // The input could not be cloned (a function, a symbol...): the thread never saw the task.
      thread.slots.release(slot);
      task.settle({ kind: 'crashed', message: message(error) });
      this.refile(thread);
      return;
    }
    task.thread = thread;
    task.slot = slot;
    thread.tasks.push(task);
    thread.bySlot.set(slot, task);
    this.busy.add(thread);
    if (thread.tasks.length > 1) {
      this.queued.push({ task, thread, slot, at: performance.now() });
      this.armSweep();
    }
    if (task.timeoutMs !== undefined) {
      const taskId = task.taskId;
      task.timeoutTimer = setTimeout(() => this.stop(taskId, 'timeout'), task.timeoutMs);
    }
  }

  /** Takes a task back from its thread if the thread has not started it; false when it has. */
  private takeBack(task: ActiveTask): boolean {
    const { thread, slot } = task;
    if (thread === undefined || slot === undefined || !thread.slots.revoke(slot)) return false;
    // The slot stays the task's until the thread says it skipped it.
    const index = thread.tasks.indexOf(task);
    if (index >= 0) thread.tasks.splice(index, 1);
    task.thread = undefined;
    task.slot = undefined;
    clearTimeout(task.timeoutTimer);
    task.timeoutTimer = undefined;
    this.reclaimed++;
    this.refile(thread);
    return true;
  }

  private armSweep(): void {
    const first = this.queued[0];
    if (this.sweepTimer !== undefined || first === undefined || this.closed) return;
    const wait = Math.max(0, first.at + this.queueHoldMs - performance.now());
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      this.sweep();
    }, wait);
  }

  /** Moves queued tasks that their thread has not reached in time to free threads. */
  private sweep(): void {
    const now = performance.now();
    for (let first = this.queued[0]; first !== undefined; first = this.queued[0]) {
      if (first.at + this.queueHoldMs > now) break;
      this.queued.shift();
      const { task, thread, slot } = first;
      if (task.thread !== thread || task.slot !== slot || this.tasks.get(task.taskId) !== task) continue;
      if (!this.takeBack(task)) continue; // started meanwhile
      task.mayQueue = false;
      this.place(task);
    }
    this.armSweep();
  }

  /** Puts a ready thread where it belongs after its tasks changed; a thread with none takes a waiting task. */
  private refile(thread: PoolThread): void {
    if (!this.all.has(thread) || !thread.isReady) return;
    if (thread.tasks.length > 0) {
      this.busy.add(thread);
      return;
    }
    this.busy.delete(thread);
    while (thread.slots.available > 0) {
      const task = this.waiting.shift();
      if (task === undefined) break;
      if (this.tasks.get(task.taskId) !== task) continue;
      this.hand(thread, task);
      return;
    }
    if (!this.idle.includes(thread)) this.idle.push(thread);
  }

  private spawn(reservedFor?: ActiveTask): PoolThread {
    const memory = createSlotMemory(this.slotCount);
    const worker = new Worker(bootstrapUrl, {
      workerData: { entry: this.options.entry, data: this.options.data, slots: memory },
      resourceLimits: this.options.resourceLimits,
      stdout: false,
      stderr: false,
    });
    let markReady: () => void = () => undefined;
    let failStart: (error: Error) => void = () => undefined;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failStart = reject;
    });
    // A start failure is reported to the task reserved for this thread; never unhandled.
    ready.catch(() => undefined);
    const thread: PoolThread = {
      worker,
      slots: new PoolSlots(memory),
      ready,
      isReady: false,
      tasks: [],
      bySlot: new Map(),
      reservedFor,
    };
    this.all.add(thread);
    this.starting++;
    let starting = true;
    const endStart = (error?: Error): void => {
      if (!starting) return;
      starting = false;
      this.starting--;
      const reserved = thread.reservedFor;
      thread.reservedFor = undefined;
      if (error === undefined) {
        thread.isReady = true;
        markReady();
        if (reserved !== undefined && this.tasks.get(reserved.taskId) === reserved)
          this.hand(thread, reserved);
        else this.refile(thread);
      } else {
        failStart(error);
        reserved?.settle({ kind: 'crashed', message: error.message });
      }
      for (const resolve of this.startEnded.splice(0)) resolve();
      this.pump();
    };
    const startTimer = setTimeout(() => {
      const error = new Error(`isolation thread did not start within ${this.startTimeoutMs} ms`);
      endStart(error);
      this.discard(thread, error.message);
    }, this.startTimeoutMs);

    const receive = (received: FromThread<TEvent, TOutput>): void => {
      switch (received.type) {
        case 'ready':
          clearTimeout(startTimer);
          endStart();
          return;
        case 'event':
          this.tasks.get(received.taskId)?.onEvent?.(received.event);
          return;
        case 'done':
        case 'crashed':
        case 'skipped':
          this.ended(thread, received);
          return;
      }
    };
    worker.on('message', receive);
    const onDeath = (reason: string): void => {
      clearTimeout(startTimer);
      thread.deathMessage ??= reason;
      endStart(new Error(thread.deathMessage));
      this.discard(thread, thread.deathMessage);
    };
    worker.on('error', (error) => onDeath(`isolation thread failed: ${error.message}`));
    worker.on('exit', (code) => {
      onDeath(`isolation thread exited with code ${code}`);
      // Every message the thread sent has been read by now: whatever has not ended died with it.
      for (const task of thread.tasks.splice(0))
        if (task.thread === thread) task.settle({ kind: 'crashed', message: thread.deathMessage ?? '' });
    });
    return thread;
  }

  /** The thread is done with the task of a slot: it finished, crashed, or was skipped after a take-back. */
  private ended(thread: PoolThread, received: Extract<FromThread<TEvent, TOutput>, { slot: number }>): void {
    const task = thread.bySlot.get(received.slot);
    thread.bySlot.delete(received.slot);
    thread.slots.release(received.slot);
    if (task !== undefined && received.type !== 'skipped' && task.thread === thread) {
      const index = thread.tasks.indexOf(task);
      if (index >= 0) thread.tasks.splice(index, 1);
      if (received.type === 'crashed') task.settle({ kind: 'crashed', message: received.message });
      else {
        const stopReason = task.stopReason;
        task.settle(
          stopReason === undefined
            ? { kind: 'done', output: received.output }
            : { kind: 'done', output: received.output, stopReason },
        );
      }
    }
    this.refile(thread);
  }

  /**
   * Removes a thread for good (killed or dead) and makes room for a replacement. Its queued tasks are taken
   * back first, so they run elsewhere; the one it was running ends when the thread's exit is seen.
   */
  private discard(thread: PoolThread, reason: string): void {
    if (!this.all.delete(thread)) return;
    thread.deathMessage ??= reason;
    this.replaced++;
    this.busy.delete(thread);
    const index = this.idle.indexOf(thread);
    if (index >= 0) this.idle.splice(index, 1);
    const orphans = thread.tasks.filter((task) => task.slot !== undefined && thread.slots.revoke(task.slot));
    for (const task of orphans) {
      thread.tasks.splice(thread.tasks.indexOf(task), 1);
      task.thread = undefined;
      task.slot = undefined;
      clearTimeout(task.timeoutTimer);
      task.timeoutTimer = undefined;
      task.mayQueue = false;
      this.reclaimed++;
    }
    void thread.worker.terminate().catch(() => undefined);
    for (const task of orphans) this.place(task);
    this.pump();
  }

  /** Starts threads for waiting tasks while there is room, a few at a time. */
  private pump(): void {
    while (this.waiting.length > 0 && this.canSpawn()) {
      const task = this.waiting.shift();
      if (task !== undefined && this.tasks.get(task.taskId) === task) this.spawn(task);
    }
  }
}
