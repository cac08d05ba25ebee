/**
 * The runs this executor holds right now (dequeued, not yet reported finished), and their stop requests.
 * A stop can arrive at any point: before the run reaches the pool (it then never starts), while it waits
 * for a thread, or while it runs (the pool stops it cooperatively, then kills its thread).
 */
import type { FlowRunner } from './flow-runner.js';
import type { StopCause } from './outcome.js';

export interface ActiveRun {
  readonly runId: string;
  stopCause?: StopCause;
  inPool: boolean;
}

export class ActiveRuns {
  readonly #runs = new Map<string, ActiveRun>();
  readonly #runner: FlowRunner;

  constructor(runner: FlowRunner) {
    this.#runner = runner;
  }

  /** Claims a run id; undefined when this executor already holds it (a duplicate delivery). */
  claim(runId: string): ActiveRun | undefined {
    if (this.#runs.has(runId)) return undefined;
    const run: ActiveRun = { runId, inPool: false };
    this.#runs.set(runId, run);
    return run;
  }

  release(run: ActiveRun): void {
    if (this.#runs.get(run.runId) === run) this.#runs.delete(run.runId);
  }

  /** Call right after handing the run to the pool: a stop requested earlier takes effect now. */
  enteredPool(run: ActiveRun): void {
    run.inPool = true;
    if (run.stopCause !== undefined) this.#runner.stop(run.runId, 'cancelled');
  }

  /**
   * Asks a held run to stop. True when this is a new request; false when this executor does not hold the
   * run or it is already stopping (the first cause wins).
   */
  requestStop(runId: string, cause: StopCause): boolean {
    const run = this.#runs.get(runId);
    if (run === undefined || run.stopCause !== undefined) return false;
    run.stopCause = cause;
    if (run.inPool) this.#runner.stop(runId, 'cancelled');
    return true;
  }

  stopAll(cause: StopCause): void {
    for (const runId of [...this.#runs.keys()]) this.requestStop(runId, cause);
  }

  ids(): string[] {
    return [...this.#runs.keys()];
  }

  get size(): number {
    return this.#runs.size;
  }
}
