import { parentPort, workerData } from 'node:worker_threads';
import type { FromThread, TaskPost, ToThread } from './messages.js';
import { ThreadSlots, type SlotMemory } from './thread-slots.js';

export interface TaskHelpers<TEvent> {
  /** Aborted when the task is asked to stop (terminate or timeout). */
  readonly signal: AbortSignal;
  readonly emit: (event: TEvent) => void;
}

export type TaskHandler<TInput, TEvent, TOutput> = (
  input: TInput,
  helpers: TaskHelpers<TEvent>,
) => Promise<TOutput>;

interface PoolWorkerData {
  readonly data: unknown;
  readonly slots: SlotMemory;
}

/** What the pool handed to this thread (`ThreadPoolOptions.data`). */
export function threadData<T>(): T {
  return (workerData as PoolWorkerData).data as T;
}

/**
 * The thread side of `ThreadPool`: serves tasks with `handler`, strictly one after another, in the order
 * they arrive. Before starting a queued task it claims the task's slot; a task the pool took back in the
 * meantime is skipped, never started. Call once from the thread's main module, after any slow set-up,
 * since it announces the thread ready.
 */
export function serveTasks<TInput, TEvent, TOutput>(handler: TaskHandler<TInput, TEvent, TOutput>): void {
  const port = parentPort;
  if (port === null) throw new Error('serveTasks must run inside a worker thread');
  const slots = new ThreadSlots((workerData as PoolWorkerData).slots);
  const controllers = new Map<string, AbortController>();
  const queue: TaskPost<TInput>[] = [];
  let running = false;
  // Posted at once, never batched: an event sent right before a function spins for ever still arrives.
  const post = (message: FromThread<TEvent, TOutput>): void => port.postMessage(message);

  const end = (task: TaskPost<TInput>, message: FromThread<TEvent, TOutput>): void => {
    controllers.delete(task.taskId);
    slots.finish(task.slot);
    try {
      post(message);
    } catch (error) {
      // The output could not be cloned (a function, a symbol...): the task still ends, as crashed.
      const reason = error instanceof Error ? error.message : String(error);
      post({ type: 'crashed', slot: task.slot, message: `could not send the task's result: ${reason}` });
    }
    running = false;
    next();
  };

  const next = (): void => {
    while (!running) {
      const task = queue.shift();
      if (task === undefined) return;
      if (!slots.claim(task.slot)) {
        post({ type: 'skipped', slot: task.slot });
        continue;
      }
      running = true;
      const { taskId, slot } = task;
      const controller = new AbortController();
      controllers.set(taskId, controller);
      const emit = (event: TEvent): void => post({ type: 'event', taskId, event });
      let result: Promise<TOutput>;
      try {
        result = handler(task.input, { signal: controller.signal, emit });
      } catch (error) {
        result = Promise.reject(error);
      }
      result.then(
        (output) => end(task, { type: 'done', slot, output }),
        (error: unknown) =>
          end(task, {
            type: 'crashed',
            slot,
            message: error instanceof Error ? error.message : String(error),
          }),
      );
    }
  };

  port.on('message', (message: ToThread<TInput>) => {
    if (message.type === 'cancel') {
      controllers.get(message.taskId)?.abort(new Error(`stopped: ${message.reason}`));
      return;
    }
    queue.push(message);
    next();
  });
  post({ type: 'ready' });
}
