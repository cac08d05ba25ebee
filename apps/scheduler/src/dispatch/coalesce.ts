/**
 * Coalescing of concurrent calls (the DataLoader pattern): the calls made within one turn of the event loop
 * are served by ONE batch call (one multi-row statement, one BullMQ bulk add), and each caller gets its
 * own result. Under load this turns many round trips into a few; a lone call waits one `setImmediate`.
 * A failing batch fails each of its callers with the same error, as each call alone would have failed.
 */
export class Coalescer<I, O> {
  readonly #run: (items: readonly I[]) => Promise<readonly O[]>;
  readonly #maxBatch: number;
  #pending: { item: I; resolve: (out: O) => void; reject: (error: unknown) => void }[] = [];
  #scheduled = false;

  constructor(run: (items: readonly I[]) => Promise<readonly O[]>, maxBatch = 500) {
    this.#run = run;
    this.#maxBatch = maxBatch;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (this.#pending.length >= this.#maxBatch) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    this.#run(batch.map((b) => b.item)).then(
      (outs) => {
        for (const [i, b] of batch.entries()) {
          if (i < outs.length) b.resolve(outs[i] as O);
          else b.reject(new Error('batch returned fewer results than calls'));
        }
      },
      (error: unknown) => {
        for (const b of batch) b.reject(error);
      },
    );
  }
}
