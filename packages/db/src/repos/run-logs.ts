import type { DbClient } from '../client.js';
import type { RunLogLine } from '../generated/prisma/client.js';
import type { RunLogLevel } from '../vocabulary.js';
import { chunks, defaultBatchSize, jsonRows } from './batches.js';

export interface NewRunLogLine {
  readonly runId: string;
  /** Per run, increasing; assigned by the executor. (runId, seq) makes a redelivered line a no-op. */
  readonly seq: number;
  readonly at: Date;
  readonly level: RunLogLevel;
  readonly funcName?: string | null;
  readonly message: string;
  readonly fields?: Readonly<Record<string, unknown>> | null;
}

const insertSql = `
INSERT INTO run_log_lines (run_id, seq, at, level, func_name, message, fields)
SELECT l.run_id, l.seq, l.at, l.level::log_level, l.func_name, l.message, l.fields
FROM jsonb_to_recordset($1::jsonb) AS l(
  run_id text, seq int, at timestamptz, level text, func_name text, message text, fields jsonb
)
WHERE EXISTS (SELECT 1 FROM runs WHERE runs.id = l.run_id)
ON CONFLICT (run_id, seq) DO NOTHING`;

/**
 * Inserts log lines in batches. Lines already stored (same run and seq) are skipped, and so are lines whose
 * run no longer exists (deleted by retention while the lines waited in Redis), which would otherwise fail the
 * whole batch on the foreign key for ever. Returns how many lines were inserted.
 */
export async function insertRunLogLines(db: DbClient, lines: readonly NewRunLogLine[]): Promise<number> {
  let inserted = 0;
  for (const batch of chunks(lines, defaultBatchSize)) {
    const rows = batch.map((line) => ({
      run_id: line.runId,
      seq: line.seq,
      at: line.at.toISOString(),
      level: line.level,
      func_name: line.funcName ?? null,
      message: line.message,
      fields: line.fields ?? null,
    }));
    inserted += await db.$executeRawUnsafe(insertSql, jsonRows(rows));
  }
  return inserted;
}

/** A run's log lines in order, after `afterSeq` (exclusive), at most `limit` (default 500, max 5000). */
export async function listRunLogLines(
  db: DbClient,
  runId: string,
  options: { readonly afterSeq?: number; readonly limit?: number } = {},
): Promise<RunLogLine[]> {
  const limit = Math.min(5000, Math.max(1, Math.floor(options.limit ?? 500)));
  return db.runLogLine.findMany({
    where: { runId, ...(options.afterSeq === undefined ? {} : { seq: { gt: options.afterSeq } }) },
    orderBy: { seq: 'asc' },
    take: limit,
  });
}
