/**
 * Which runs a batch finalized or started, for the dispatcher's callbacks.
 *
 * `onRunsFinalized` is at-least-once. A run is reported when this batch's `finished` event moved it to its
 * final state. If the scheduler dies after the commit and before the acknowledgement, the entry is read
 * again (by this consumer or by one that claims it), `applyRunEvents` then ignores it because the run is
 * final already, so for re-delivered entries the run row itself is checked: when its final status and
 * finish time are exactly those of this event, this event is what finalized it and it is reported again.
 * A separate, later event for an already-final run (a duplicate XADD, a report after `lost`) is never
 * reported. The dispatcher therefore has to treat a repeat report as a no-op.
 */
import type { PrismaClient, RunTransition } from '@kisjobs/db';
import {
  isFinalRunStatus,
  type FinalRunStatus,
  type RunFinishedEvent,
  type RunStartedEvent,
} from '@kisjobs/protocol';
import type { DecodedEntry } from './apply.js';

export interface FinalizedRun {
  readonly runId: string;
  readonly status: FinalRunStatus;
  readonly finishedAt: Date;
  readonly executorInstanceId: string;
  readonly attempt: number;
  /** `RunError.code` of a run that did not succeed. */
  readonly errorCode: string | null;
  /** True when this report repeats one that may have been made before (a re-delivered entry). */
  readonly redelivered: boolean;
}

export interface StartedRun {
  readonly runId: string;
  readonly executorInstanceId: string;
  readonly startedAt: Date;
  readonly attempt: number;
}

interface Finished {
  readonly event: RunFinishedEvent;
  readonly redelivered: boolean;
}

function toFinalized(finished: Finished, status: FinalRunStatus): FinalizedRun {
  const { event } = finished;
  return {
    runId: event.runId,
    status,
    finishedAt: new Date(event.at),
    executorInstanceId: event.instanceId,
    attempt: event.attempt,
    errorCode: event.error?.code ?? null,
    redelivered: finished.redelivered,
  };
}

export async function finalizedRuns(
  prisma: PrismaClient,
  entries: readonly DecodedEntry[],
  transitions: readonly RunTransition[],
  poisoned: ReadonlySet<string>,
): Promise<FinalizedRun[]> {
  const firstFinished = new Map<string, Finished>();
  for (const { entry, event } of entries) {
    if (event.type !== 'finished' || poisoned.has(`${entry.stream}\0${entry.id}`)) continue;
    if (!firstFinished.has(event.runId))
      firstFinished.set(event.runId, { event, redelivered: entry.redelivered });
  }
  const out: FinalizedRun[] = [];
  const applied = new Set<string>();
  for (const transition of transitions) {
    if (transition.type !== 'finished' || !isFinalRunStatus(transition.status)) continue;
    const finished = firstFinished.get(transition.runId);
    if (finished === undefined) continue;
    applied.add(transition.runId);
    out.push(toFinalized(finished, transition.status));
  }
  const recheck = [...firstFinished.values()].filter((f) => f.redelivered && !applied.has(f.event.runId));
  if (recheck.length === 0) return out;
  const rows = await prisma.run.findMany({
    where: { id: { in: recheck.map((f) => f.event.runId) } },
    select: { id: true, status: true, finishedAt: true, executorInstanceId: true },
  });
  const byId = new Map(rows.map((row) => [row.id, row]));
  for (const finished of recheck) {
    const row = byId.get(finished.event.runId);
    if (
      row !== undefined &&
      row.status === finished.event.status &&
      row.finishedAt?.getTime() === Date.parse(finished.event.at) &&
      row.executorInstanceId === finished.event.instanceId
    ) {
      out.push(toFinalized(finished, finished.event.status));
    }
  }
  return out;
}

export function startedRuns(
  entries: readonly DecodedEntry[],
  transitions: readonly RunTransition[],
): StartedRun[] {
  const lastStarted = new Map<string, RunStartedEvent>();
  for (const { event } of entries) if (event.type === 'started') lastStarted.set(event.runId, event);
  const out: StartedRun[] = [];
  for (const transition of transitions) {
    const event = transition.type === 'started' ? lastStarted.get(transition.runId) : undefined;
    if (event === undefined) continue;
    out.push({
      runId: event.runId,
      executorInstanceId: event.instanceId,
      startedAt: new Date(event.at),
      attempt: event.attempt,
    });
  }
  return out;
}
