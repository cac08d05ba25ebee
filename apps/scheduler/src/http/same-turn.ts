/**
 * Identical reads made within one turn of the event loop share one execution, started once the turn is over
 * (`setImmediate`). Every call that shares it arrived before it started, so each gets an answer at least as
 * fresh as running alone would have given (a client that wrote something and then reads sees its write). A
 * lone call waits one `setImmediate`. A failure fails every call that shared it, as each alone would have
 * failed. The shape of dispatch/coalesce.ts's Coalescer, keyed: calls with different keys run separately.
 */
export type SameTurn<A, R> = (args: A) => Promise<R>;

interface Waiting<A, R> {
  readonly args: A;
  readonly promise: Promise<R>;
  readonly resolve: (value: R) => void;
  readonly reject: (error: unknown) => void;
}

export function sameTurn<A, R>(run: (args: A) => Promise<R>, keyOf: (args: A) => string): SameTurn<A, R> {
  let waiting = new Map<string, Waiting<A, R>>();

  function flush(): void {
    const batch = waiting;
    waiting = new Map();
    for (const call of batch.values()) {
      let started: Promise<R>;
      try {
        started = run(call.args);
      } catch (error) {
        started = Promise.reject(error);
      }
      started.then(call.resolve, call.reject);
    }
  }

  return (args) => {
    const key = keyOf(args);
    const joined = waiting.get(key);
    if (joined !== undefined) return joined.promise;
    let resolve: (value: R) => void = () => undefined;
    let reject: (error: unknown) => void = () => undefined;
    const promise = new Promise<R>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    if (waiting.size === 0) setImmediate(flush);
    waiting.set(key, { args, promise, resolve, reject });
    return promise;
  };
}
