import { Worker } from 'node:worker_threads';
import type { ResourceLimits } from 'node:worker_threads';
import type { FromThread, ToThread } from './messages.js';

/**
 * A pool of worker threads, one task per thread at a time. A task that must stop (terminate, timeout) is
 * first asked to stop cooperatively through its AbortSignal; if it has not finished after `cancelGraceMs`
 * its thread is terminated (this interrupts even a synchronous `while (true) {}`) and replaced, so the
 * other tasks of the pool go on untouched.
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
  readonly resourceLimits?: ResourceLimits;
}

export type StopReason = 'cancelled' | 'timeout';

export type TaskOutcome<TOutput> =
  /** The task returned. `stopReason` is set when a stop had been requested before it returned. */
  | { readonly kind: 'done'; readonly output: TOutput; readonly stopReason?: StopReason }
  /** The task did not stop in time after a stop request; its thread was terminated. */
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
}

interface PoolThread {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  task?: ActiveTask;
}

interface ActiveTask {
  readonly taskId: string;
  thread?: PoolThread;
  stopReason?: StopReason;
  killTimer?: NodeJS.Timeout;
  timeoutTimer?: NodeJS.Timeout;
  readonly timeoutMs?: number;
  settle(outcome: TaskOutcome<unknown>): void;
  onEvent?: (event: unknown) => void;
}

const bootstrapUrl = new URL('./thread-bootstrap.mjs', import.meta.url);

export class ThreadPool<TInput, TEvent, TOutput> {
  private readonly idle: PoolThread[] = [];
  private readonly all = new Set<PoolThread>();
  private readonly tasks = new Map<string, ActiveTask>();
  private readonly waiters: Array<(thread: PoolThread) => void> = [];
  private replaced = 0;
  private closed = false;
  private readonly cancelGraceMs: number;
  private readonly startTimeoutMs: number;
  private readonly maxConcurrentStarts: number;
  private starting = 0;

  constructor(private readonly options: ThreadPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1)
      throw new RangeError('size must be a positive integer');
    this.cancelGraceMs = options.cancelGraceMs ?? 300;
    this.startTimeoutMs = options.startTimeoutMs ?? 30_000;
    this.maxConcurrentStarts = Math.max(1, options.maxConcurrentStarts ?? 2);
  }

  /** Starts threads ahead of the first tasks, so the first runs do not pay for thread start-up. */
  async warm(count = this.options.size): Promise<void> {
    const want = Math.max(0, Math.min(count, this.options.size) - this.all.size);
    // Through acquire, so warming respects the limit on concurrent starts too.
    const threads = await Promise.all(Array.from({ length: want }, () => this.acquire()));
    await Promise.all(threads.map((t) => t.ready.catch(() => undefined)));
    for (const thread of threads) this.release(thread);
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
        settle: (outcome) => {
          if (this.tasks.get(taskId) !== task) return;
          this.tasks.delete(taskId);
          clearTimeout(task.killTimer);
          clearTimeout(task.timeoutTimer);
          if (task.thread !== undefined) task.thread.task = undefined;
          resolve(outcome as TaskOutcome<TOutput>);
        },
        onEvent: options.onEvent as ((event: unknown) => void) | undefined,
        timeoutMs: options.timeoutMs,
      };
      this.tasks.set(taskId, task);
      void this.start(task, input);
    });
  }

  private async start(task: ActiveTask, input: TInput): Promise<void> {
    let thread: PoolThread;
    try {
      thread = await this.acquire();
      await thread.ready;
    } catch (error) {
      task.settle({ kind: 'crashed', message: error instanceof Error ? error.message : String(error) });
      return;
    }
    if (task.stopReason !== undefined || this.tasks.get(task.taskId) !== task) {
      // Stopped (or the pool closed) before it reached a thread: it never runs.
      if (task.stopReason !== undefined) task.settle({ kind: 'killed', stopReason: task.stopReason });
      this.release(thread);
      return;
    }
    task.thread = thread;
    thread.task = task;
    const message: ToThread<TInput> = { type: 'task', taskId: task.taskId, input };
    try {
      thread.worker.postMessage(message);
    } catch (error) {
      // The input could not be cloned (a function, a symbol...): the thread never saw the task.
      task.settle({ kind: 'crashed', message: error instanceof Error ? error.message : String(error) });
      this.release(thread);
      return;
    }
    if (task.timeoutMs !== undefined) {
      const taskId = task.taskId;
      task.timeoutTimer = setTimeout(() => this.stop(taskId, 'timeout'), task.timeoutMs);
    }
  }

  /** Asks a running task to stop; kills its thread if it has not finished after the grace period. */
  stop(taskId: string, reason: StopReason = 'cancelled'): boolean {
    const task = this.tasks.get(taskId);
    if (task === undefined) return false;
    if (task.stopReason !== undefined) return true;
    task.stopReason = reason;
    const thread = task.thread;
    if (thread === undefined) {
      // Still waiting for a thread: it ends now, and `start` hands the thread on when it arrives.
      task.settle({ kind: 'killed', stopReason: reason });
      return true;
    }
    const message: ToThread<TInput> = { type: 'cancel', taskId, reason };
    thread.worker.postMessage(message);
    task.killTimer = setTimeout(() => {
      if (this.tasks.get(taskId) !== task) return;
      task.settle({ kind: 'killed', stopReason: reason });
      this.discard(thread);
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
      waiting: this.waiters.length,
      starting: this.starting,
      replaced: this.replaced,
    };
  }

  /** Terminates every thread. Running tasks settle as crashed. */
  async close(): Promise<void> {
    this.closed = true;
    const threads = [...this.all];
    for (const task of this.tasks.values()) task.settle({ kind: 'crashed', message: 'thread pool closed' });
    this.all.clear();
    this.idle.length = 0;
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  private acquire(): Promise<PoolThread> {
    const thread = this.idle.pop();
    if (thread !== undefined) return Promise.resolve(thread);
    if (this.all.size < this.options.size && this.starting < this.maxConcurrentStarts) {
      return Promise.resolve(this.spawn());
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(thread: PoolThread): void {
    if (!this.all.has(thread)) return;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter(thread);
    else this.idle.push(thread);
  }

  private spawn(): PoolThread {
    const worker = new Worker(bootstrapUrl, {
      workerData: { entry: this.options.entry, data: this.options.data },
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
    this.starting++;
    let starting = true;
    const startEnded = (): void => {
      if (!starting) return;
      starting = false;
      this.starting--;
      this.pump();
    };
    const startTimer = setTimeout(() => {
      failStart(new Error(`isolation thread did not start within ${this.startTimeoutMs} ms`));
      startEnded();
      this.discard(thread);
    }, this.startTimeoutMs);
    // A start failure is reported to the task that waits for this thread; never unhandled.
    ready.catch(() => undefined);
    const thread: PoolThread = { worker, ready };
    this.all.add(thread);

    worker.on('message', (message: FromThread<TEvent, TOutput>) => {
      switch (message.type) {
        case 'ready':
          clearTimeout(startTimer);
          markReady();
          startEnded();
          return;
        case 'event':
          this.tasks.get(message.taskId)?.onEvent?.(message.event);
          return;
        case 'done': {
          const task = this.tasks.get(message.taskId);
          if (task === undefined) return;
          const stopReason = task.stopReason;
          task.settle(
            stopReason === undefined
              ? { kind: 'done', output: message.output }
              : { kind: 'done', output: message.output, stopReason },
          );
          this.release(thread);
          return;
        }
        case 'crashed': {
          this.tasks.get(message.taskId)?.settle({ kind: 'crashed', message: message.message });
          this.release(thread);
          return;
        }
      }
    });
    const onDeath = (message: string): void => {
      clearTimeout(startTimer);
      failStart(new Error(message));
      startEnded();
      thread.task?.settle({ kind: 'crashed', message });
      this.discard(thread);
    };
    worker.on('error', (error) => onDeath(`isolation thread failed: ${error.message}`));
    worker.on('exit', (code) => onDeath(`isolation thread exited with code ${code}`));
    return thread;
  }

  /** Removes a thread for good (killed or dead) and makes room for a replacement. */
  private discard(thread: PoolThread): void {
    if (!this.all.delete(thread)) return;
    this.replaced++;
    const index = this.idle.indexOf(thread);
    if (index >= 0) this.idle.splice(index, 1);
    void thread.worker.terminate().catch(() => undefined);
    this.pump();
  }

  /** Starts threads for waiting tasks while there is room, a few at a time. */
  private pump(): void {
    while (
      !this.closed &&
      this.waiters.length > 0 &&
      this.all.size < this.options.size &&
      this.starting < this.maxConcurrentStarts
    ) {
      const waiter = this.waiters.shift();
      waiter?.(this.spawn());
    }
  }
}
