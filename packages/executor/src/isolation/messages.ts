/**
 * Messages between the executor's main thread and an isolation thread (structured clone over
 * postMessage; never crosses Redis, so no zod here: both ends are this package). A task travels with the
 * shared-memory slot that decides whether it runs (thread-slots.ts); every answer about it names the slot.
 */
export interface TaskPost<TInput> {
  readonly type: 'task';
  readonly taskId: string;
  readonly slot: number;
  readonly input: TInput;
}

export type ToThread<TInput> =
  TaskPost<TInput> | { readonly type: 'cancel'; readonly taskId: string; readonly reason: string };

export type FromThread<TEvent, TOutput> =
  | { readonly type: 'ready' }
  | { readonly type: 'event'; readonly taskId: string; readonly event: TEvent }
  | { readonly type: 'done'; readonly slot: number; readonly output: TOutput }
  | { readonly type: 'crashed'; readonly slot: number; readonly message: string }
  /** The pool took the task back before this thread reached it: it never ran here. */
  | { readonly type: 'skipped'; readonly slot: number };
