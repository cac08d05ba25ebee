import { parentPort, workerData } from 'node:worker_threads';
import type { FromThread, ToThread } from './messages.js';

export interface TaskHelpers<TEvent> {
  /** Aborted when the task is asked to stop (terminate or timeout). */
  readonly signal: AbortSignal;
  readonly emit: (event: TEvent) => void;
}

export type TaskHandler<TInput, TEvent, TOutput> = (
  input: TInput,
  helpers: TaskHelpers<TEvent>,
) => Promise<TOutput>;

/** What the pool handed to this thread (`ThreadPoolOptions.data`). */
export function threadData<T>(): T {
  return (workerData as { data: T }).data;
}

/**
 * The thread side of `ThreadPool`: serves tasks one at a time with `handler`. Call once from the thread's
 * main module, after any slow set-up, since it announces the thread ready.
 */
export function serveTasks<TInput, TEvent, TOutput>(handler: TaskHandler<TInput, TEvent, TOutput>): void {
  const port = parentPort;
  if (port === null) throw new Error('serveTasks must run inside a worker thread');
  const controllers = new Map<string, AbortController>();
  const post = (message: FromThread<TEvent, TOutput>): void => port.postMessage(message);

  port.on('message', (message: ToThread<TInput>) => {
    if (message.type === 'cancel') {
      controllers.get(message.taskId)?.abort(new Error(`stopped: ${message.reason}`));
      return;
    }
    const { taskId } = message;
    const controller = new AbortController();
    controllers.set(taskId, controller);
    const emit = (event: TEvent): void => post({ type: 'event', taskId, event });
    void handler(message.input, { signal: controller.signal, emit })
      .then(
        (output) => post({ type: 'done', taskId, output }),
        (error: unknown) =>
          post({ type: 'crashed', taskId, message: error instanceof Error ? error.message : String(error) }),
      )
      .finally(() => controllers.delete(taskId));
  });
  post({ type: 'ready' });
}
