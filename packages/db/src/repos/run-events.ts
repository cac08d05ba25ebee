/**
 * Run state transitions reported by executors and by the scheduler itself (timeouts, lost runs, discarded
 * fires), applied in batches. The rules:
 * - `started`: pending → running (a repeated start keeps the first `startedAt` and records the newest executor,
 *   which is who holds a redelivered run);
 * - `skipped`: pending → skipped;
 * - `finished`: pending or running → succeeded | failed | timed_out | terminated | lost.
 * A final state never changes again: not back to running, and not to another final state (the first final
 * report wins, e.g. `succeeded` from the executor against `lost` from the detector). Events that find their
 * run final, or missing, are returned as ignored.
 *
 * A batch is one transaction: a lock of its runs, then one UPDATE per event type that has rows, applied as
 * if in the order started, skipped, finished. A run with both a `started` and a `finished` event in the
 * batch (the usual case for a short run) is written once, by the finished UPDATE, with what the started
 * UPDATE would have set folded in: applied one after the other, the two statements have the same WHERE on
 * the same locked row (the first leaves it `running`), so they apply together or not at all, and the row
 * ends as the folded UPDATE leaves it. The `skipped` event of a run that also has a `started` event in the
 * batch is not sent: it could never apply, as the start leaves the run running, or finds it not pending.
 * Returned transitions are as if the statements had run one after the other (a folded run reports both).
 */
import type { PrismaClient } from '../client.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { EndedRunStatus, RunStatus } from '../vocabulary.js';
import { jsonRows } from './batches.js';

export type RunEvent =
  | {
      readonly type: 'started';
      readonly runId: string;
      readonly at: Date;
      readonly executorInstanceId: string;
    }
  | {
      readonly type: 'finished';
      readonly runId: string;
      readonly at: Date;
      readonly status: EndedRunStatus;
      /** Per-function rows in/out and durations. */
      readonly summary?: unknown;
      readonly errorMessage?: string | null;
      readonly errorCode?: string | null;
      /** Default: `at - startedAt`. */
      readonly durationMs?: number | null;
      /** Fills in what a lost `started` event would have said. */
      readonly executorInstanceId?: string | null;
      readonly startedAt?: Date | null;
    }
  | { readonly type: 'skipped'; readonly runId: string; readonly at: Date; readonly reason: string };

export type RunEventType = RunEvent['type'];

export interface RunTransition {
  readonly runId: string;
  readonly type: RunEventType;
  /** The status after the event. */
  readonly status: RunStatus;
}

export interface ApplyRunEventsResult {
  /** Events that changed their run, in the order started, skipped, finished. */
  readonly applied: readonly RunTransition[];
  /** Events whose run was already final (or does not exist), or that repeated another event of the batch. */
  readonly ignored: readonly { readonly runId: string; readonly type: RunEventType }[];
}

const startedSql = `
UPDATE runs AS r
SET status = 'running', started_at = COALESCE(r.started_at, e.at),
    executor_instance_id = e.executor_instance_id, updated_at = now()
FROM jsonb_to_recordset($1::jsonb) AS e(run_id text, at timestamptz, executor_instance_id text)
WHERE r.id = e.run_id AND r.status IN ('pending', 'running')
RETURNING r.id, r.status::text AS status`;

const skippedSql = `
UPDATE runs AS r
SET status = 'skipped', skip_reason = e.reason, finished_at = e.at, updated_at = now()
FROM jsonb_to_recordset($1::jsonb) AS e(run_id text, at timestamptz, reason text)
WHERE r.id = e.run_id AND r.status = 'pending'
RETURNING r.id, r.status::text AS status`;

const finishedSql = `
UPDATE runs AS r
SET status = e.status::run_status,
    finished_at = e.at,
    started_at = COALESCE(r.started_at, e.started_at),
    executor_instance_id = CASE WHEN e.after_start THEN e.executor_instance_id
                                ELSE COALESCE(e.executor_instance_id, r.executor_instance_id) END,
    summary = COALESCE(e.summary, r.summary),
    error_message = e.error_message,
    error_code = e.error_code,
    duration_ms = COALESCE(
      e.duration_ms,
      GREATEST(0, (EXTRACT(EPOCH FROM (e.at - COALESCE(r.started_at, e.started_at))) * 1000)::int)
    ),
    updated_at = now()
FROM jsonb_to_recordset($1::jsonb) AS e(
  run_id text, at timestamptz, status text, summary jsonb, error_message text, error_code text,
  duration_ms int, executor_instance_id text, started_at timestamptz, after_start boolean
)
WHERE r.id = e.run_id AND r.status IN ('pending', 'running')
RETURNING r.id, r.status::text AS status`;

/** Locks the runs of the batch in id order first, so that concurrent batches never deadlock. */
const lockSql = `SELECT id FROM runs WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`;

type Row = { id: string; status: RunStatus };

/** Keeps one event per run: the first (`first`) or the last (`!first`) in batch order. */
function onePerRun<E extends RunEvent>(events: readonly E[], first: boolean): Map<string, E> {
  const byRun = new Map<string, E>();
  for (const event of events) {
    if (first && byRun.has(event.runId)) continue;
    byRun.delete(event.runId);
    byRun.set(event.runId, event);
  }
  return byRun;
}

const iso = (date: Date | null | undefined): string | null => date?.toISOString() ?? null;

/** Applies a batch of run events in one transaction (all or nothing: acknowledge the batch after it returns). */
export async function applyRunEvents(
  prisma: PrismaClient,
  events: readonly RunEvent[],
): Promise<ApplyRunEventsResult> {
  if (events.length === 0) return { applied: [], ignored: [] };
  const started = onePerRun(
    events.filter((e): e is Extract<RunEvent, { type: 'started' }> => e.type === 'started'),
    false,
  );
  const skipped = onePerRun(
    events.filter((e): e is Extract<RunEvent, { type: 'skipped' }> => e.type === 'skipped'),
    true,
  );
  const finished = onePerRun(
    events.filter((e): e is Extract<RunEvent, { type: 'finished' }> => e.type === 'finished'),
    true,
  );
  const runIds = [...new Set(events.map((e) => e.runId))].sort();

  // A run started and finished in this batch is written by the finished UPDATE alone (see the module
  // comment). Its row there carries the net effect of the start: `started_at` = COALESCE(start, finish's
  // startedAt), and the executor of the finish, else that of the start, which the started UPDATE would have
  // stored unconditionally (`after_start` says to take it as is, rather than falling back to the row's).
  const startedRows = [...started.values()]
    .filter((e) => !finished.has(e.runId))
    .map((e) => ({ run_id: e.runId, at: e.at.toISOString(), executor_instance_id: e.executorInstanceId }));
  const skippedRows = [...skipped.values()]
    .filter((e) => !started.has(e.runId))
    .map((e) => ({ run_id: e.runId, at: e.at.toISOString(), reason: e.reason }));
  const finishedRows = [...finished.values()].map((e) => {
    const start = started.get(e.runId);
    return {
      run_id: e.runId,
      at: e.at.toISOString(),
      status: e.status,
      summary: e.summary ?? null,
      error_message: e.errorMessage ?? null,
      error_code: e.errorCode ?? null,
      duration_ms: e.durationMs ?? null,
      executor_instance_id: e.executorInstanceId ?? start?.executorInstanceId ?? null,
      started_at: iso(start?.at) ?? iso(e.startedAt),
      after_start: start !== undefined,
    };
  });

  // The lock first, then only the statements that have rows.
  const lock = prisma.$queryRawUnsafe<{ id: string }[]>(lockSql, runIds);
  const updates: { type: RunEventType; query: Prisma.PrismaPromise<Row[]> }[] = [];
  if (startedRows.length > 0)
    updates.push({
      type: 'started',
      query: prisma.$queryRawUnsafe<Row[]>(startedSql, jsonRows(startedRows)),
    });
  if (skippedRows.length > 0)
    updates.push({
      type: 'skipped',
      query: prisma.$queryRawUnsafe<Row[]>(skippedSql, jsonRows(skippedRows)),
    });
  if (finishedRows.length > 0)
    updates.push({
      type: 'finished',
      query: prisma.$queryRawUnsafe<Row[]>(finishedSql, jsonRows(finishedRows)),
    });
  const [, ...results] = await prisma.$transaction([lock, ...updates.map((u) => u.query)]);
  const rowsOf = (type: RunEventType): Row[] => {
    const index = updates.findIndex((u) => u.type === type);
    return index < 0 ? [] : (results[index] ?? []);
  };
  const startedApplied = rowsOf('started');
  const skippedApplied = rowsOf('skipped');
  const finishedApplied = rowsOf('finished');

  // A folded run's finished UPDATE applied its start too: report both, the start with the others.
  const startStatus = new Map<string, RunStatus>(startedApplied.map((row) => [row.id, row.status]));
  for (const row of finishedApplied) if (started.has(row.id)) startStatus.set(row.id, 'running');
  const applied: RunTransition[] = [
    ...[...started.keys()].flatMap((runId) => {
      const status = startStatus.get(runId);
      return status === undefined ? [] : [{ runId, type: 'started' as const, status }];
    }),
    ...skippedApplied.map((row) => ({ runId: row.id, type: 'skipped' as const, status: row.status })),
    ...finishedApplied.map((row) => ({ runId: row.id, type: 'finished' as const, status: row.status })),
  ];
  const appliedKeys = new Set(applied.map((t) => `${t.type}\0${t.runId}`));
  const ignored: { runId: string; type: RunEventType }[] = [];
  const counted = new Set<string>();
  for (const event of events) {
    const key = `${event.type}\0${event.runId}`;
    if (appliedKeys.has(key) && !counted.has(key)) {
      counted.add(key);
      continue;
    }
    ignored.push({ runId: event.runId, type: event.type });
  }
  return { applied, ignored };
}
