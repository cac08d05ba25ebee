/**
 * The block strategy (DESIGN §3): what a trigger records when the same job still has active (pending or
 * running) runs. The one home of these rules; `trigger` (one job, in its own transaction) and the batch
 * fire path (many jobs under their locks in one transaction) both call `decideBlock`, so they cannot drift.
 * - `parallel` goes, and looks at no other run: it needs neither the job lock nor the active runs.
 * - With no other active run, every strategy dispatches the new runs.
 * - `replace` dispatches them and names the active runs to terminate (after the rows are recorded).
 * - `discard` records one `skipped` row naming the oldest active run.
 * - `serial` records the new runs held: pending, not dispatched (the serial queue advances them).
 * `decideBlock` reads nothing itself: the caller reads the active runs under the job's row lock, hands it
 * the rows it may record (`blockRows`), and inserts what it returns.
 */
import type { BlockStrategy } from '@kisjobs/protocol';
import type { DispatchContext } from './context.js';
import { prepareRuns, type NewRunsSpec, type PreparedRun } from './deliver.js';
import { finalRun } from './final-run.js';

/**
 * The rows a trigger may record. The dispatchable runs are built up front (their ids are the trigger's
 * own, and `trigger` builds them before it waits for the lock); the alternatives only once picked.
 */
export interface BlockRows {
  /** The new runs dispatched now, one per shard. */
  readonly dispatchable: readonly PreparedRun[];
  /** The same runs (same ids) held: pending, not dispatched. */
  readonly held: () => readonly PreparedRun[];
  /** The one final `skipped` row standing for the trigger (the id of shard 0). */
  readonly skipped: (reason: string) => readonly PreparedRun[];
}

export interface BlockDecision {
  /** The rows to insert (under the job's lock, unless the strategy needs none). */
  readonly insert: readonly PreparedRun[];
  /** Active runs to terminate once the rows are recorded (`replace`). */
  readonly replace: readonly string[];
}

/** False for `parallel`: it decides without the job's row lock and without reading its active runs. */
export function needsJobLock(strategy: BlockStrategy): boolean {
  return strategy !== 'parallel';
}

/** The skip reason of a run discarded because `activeRunId` is still active. */
export function discardReason(activeRunId: string): string {
  return `discarded: the job has an active run (${activeRunId}) and its block strategy is discard`;
}

/**
 * `active`: the job's pending and running run ids, oldest first, read under its row lock. The trigger's own
 * ids are left out of them (a repeated fire finds its own run active). Ignored for `parallel`.
 */
export function decideBlock(
  strategy: BlockStrategy,
  active: readonly string[],
  rows: BlockRows,
): BlockDecision {
  if (strategy === 'parallel') return { insert: rows.dispatchable, replace: [] };
  const own = new Set(rows.dispatchable.map((p) => p.insert.id));
  const isOther = (id: string): boolean => !own.has(id);
  // Only `replace` needs every other run; a long serial queue is not walked for the others.
  const oldest = active.find(isOther);
  if (oldest === undefined) return { insert: rows.dispatchable, replace: [] };
  switch (strategy) {
    case 'replace':
      return { insert: rows.dispatchable, replace: active.filter(isOther) };
    case 'discard':
      return { insert: rows.skipped(discardReason(oldest)), replace: [] };
    case 'serial':
      return { insert: rows.held(), replace: [] };
  }
}

/**
 * The ids a decision leaves active (its pending rows, dispatched or held; not a skipped or failed row): for
 * the batch path, the job's later fires in the same batch see them as active runs.
 */
export function activeAfter(decision: BlockDecision): string[] {
  return decision.insert.filter((p) => p.insert.status === 'pending').map((p) => p.insert.id);
}

/**
 * The rows of `decideBlock` for one trigger, with the shapes both paths record: `prepareRuns` for the
 * dispatched and held runs, `finalRun` for the skipped row. Each shard's id is drawn once, so whichever
 * rows are picked carry the ids the decision left out of the active runs (a manual trigger's ids are
 * random: drawn twice, the held rows would not be the runs the decision called the trigger's own).
 */
export function blockRows(ctx: DispatchContext, spec: Omit<NewRunsSpec, 'hold'>): BlockRows {
  const idByShard = new Map(spec.targets.map((t) => [t.shardIndex, spec.idOf(t.shardIndex)] as const));
  const fixed = { ...spec, idOf: (shard: number) => idByShard.get(shard) ?? spec.idOf(shard) };
  return {
    dispatchable: prepareRuns(ctx, { ...fixed, hold: false }),
    held: () => prepareRuns(ctx, { ...fixed, hold: true }),
    skipped: (reason) => finalRun(fixed, ctx.clock.now(), { status: 'skipped', skipReason: reason }),
  };
}
