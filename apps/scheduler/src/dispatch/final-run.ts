/**
 * The one row a trigger records when its runs will not run: `skipped` (a disabled job, the `discard` block
 * strategy) or `failed` before dispatch (a flow that cannot run). One row stands for the whole trigger,
 * shard 0 of 1, whatever the routing would have planned, and it is final at once (`finished_at` is its
 * `triggered_at`, never dispatched). Both `trigger` and the batch fire path build it here, so the row is
 * the same whichever path records it.
 */
import { runBase, type NewRunsSpec, type PreparedRun } from './deliver.js';
import type { RunInsert } from './run-store.js';

/** What a final row takes from the trigger. */
export type FinalRunSpec = Pick<
  NewRunsSpec,
  'job' | 'idOf' | 'triggerType' | 'triggeredBy' | 'scheduledAt' | 'parentRunId' | 'params'
>;

export type FinalOutcome = Pick<RunInsert, 'status' | 'skipReason' | 'errorCode' | 'errorMessage'> & {
  readonly status: 'skipped' | 'failed';
};

export function finalRun(spec: FinalRunSpec, at: Date, outcome: FinalOutcome): PreparedRun[] {
  // The first attempt (a final row is never retried), shard 0 of 1.
  const base = runBase({ ...spec, attempt: 1 }, { shardIndex: 0, shardTotal: 1 }, at);
  const insert: RunInsert = { ...base, dispatchedAt: null, targetQueue: null, ...outcome };
  return [{ insert }];
}
