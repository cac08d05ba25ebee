/**
 * Identical reads share one execution, and every answer is fresh: a call only ever joins an execution that
 * has not started yet, so each gets an answer at least as fresh as running alone would have given (a client
 * that wrote something and then reads sees its write).
 *
 * Per key there is at most one execution running and one waiting:
 *   - the first call for a key makes the waiting execution; it starts once the event-loop turn is over
 *     (`setImmediate`), so every identical call of that turn joins it;
 *   - while an execution for the key is running, calls join the waiting one, which starts the moment the
 *     running one settles.
 * Under load, then, a hot listing costs one query per query-time instead of one per request, and a caller
 * waits at most for the running execution to end plus its own. A lone call waits one `setImmediate`. A failure
 * fails every call that shared it, as each alone would have failed; the next waiting execution still runs.
 * Calls with different keys never wait for each other.
 */
export type SharedRead<A, R> = (args: A) => Promise<R>;

interface Waiting<A, R> {
  readonly args: A;
  readonly promise: Promise<R>;
  readonly resolve: (value: R) => void;
  readonly reject: (error: unknown) => void;
}

interface KeyState<A, R> {
  running: boolean;
  waiting: Waiting<A, R> | undefined;
}

export function sharedRead<A, R>(run: (args: A) => Promise<R>, keyOf: (args: A) => string): SharedRead<A, R> {
  const keys = new Map<string, KeyState<A, R>>();
  /** Keys whose waiting execution starts at the end of this turn. */
  let turn: string[] = [];

  function start(key: string, state: KeyState<A, R>): void {
    const call = state.waiting;
    if (call === undefined) {
      keys.delete(key);
      return;
    }
    state.waiting = undefined;
    state.running = true;
    let started: Promise<R>;
    try {
      started = run(call.args);
    } catch (error) {
      started = Promise.reject(error);
    }
    const settle = (): void => {
      state.running = false;
      start(key, state);
    };
    started.then(
      (value) => {
        call.resolve(value);
        settle();
      },
      (error: unknown) => {
        call.reject(error);
        settle();
      },
    );
  }

  function endOfTurn(): void {
    const due = turn;
    turn = [];
    for (const key of due) {
      const state = keys.get(key);
      if (state !== undefined && !state.running) start(key, state);
    }
  }

  return (args) => {
    const key = keyOf(args);
    let state = keys.get(key);
    if (state?.waiting !== undefined) return state.waiting.promise;
    let resolve: (value: R) => void = () => undefined;
    let reject: (error: unknown) => void = () => undefined;
    const promise = new Promise<R>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    if (state === undefined) {
      state = { running: false, waiting: undefined };
      keys.set(key, state);
    }
    state.waiting = { args, promise, resolve, reject };
    if (!state.running) {
      if (turn.length === 0) setImmediate(endOfTurn);
      turn.push(key);
    }
    return promise;
  };
}
