/**
 * Messages between the executor's main thread and an isolation thread (structured clone over
 * postMessage; never crosses Redis, so no zod here: both ends are this package).
 */
export type ToThread<TInput> =
  | { readonly type: 'task'; readonly taskId: string; readonly input: TInput }
  | { readonly type: 'cancel'; readonly taskId: string; readonly reason: string };

export type FromThread<TEvent, TOutput> =
  | { readonly type: 'ready' }
  | { readonly type: 'event'; readonly taskId: string; readonly event: TEvent }
  | { readonly type: 'done'; readonly taskId: string; readonly output: TOutput }
  | { readonly type: 'crashed'; readonly taskId: string; readonly message: string };
