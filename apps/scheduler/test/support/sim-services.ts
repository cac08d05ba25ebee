/** Shared glue for the registry, ingest and lost-run tests: a capturing logger, runs, a Postgres client. */
import { createDb, insertRuns, type Db, type NewRun } from '@kisjobs/db';
import { newId } from '@kisjobs/protocol';
import type { LogFields, Logger } from '../../src/registry/ports.js';

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly fields: LogFields | undefined;
}

export function capturingLogger(): Logger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine['level']) =>
    (msg: string, fields?: LogFields): void => {
      lines.push({ level, msg, fields });
      if (process.env.KISJOBS_TEST_LOGS === '1') console.log(level, msg, JSON.stringify(fields ?? {}));
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A client on a test database that survives the database going away (outage tests). */
export function openDb(url: string): Db {
  return createDb({ url, poolMax: 5, onPoolError: () => undefined });
}

/**
 * `count` pending runs (no job: runs outlive their jobs), triggered `ageMs` ago; with `targetQueue`, claimed
 * for that queue as the dispatcher does (`dispatched_at`, `target_queue`).
 */
export async function seedRuns(
  db: Db,
  count: number,
  overrides: Partial<NewRun> & { readonly ageMs?: number; readonly targetQueue?: string } = {},
): Promise<string[]> {
  const { ageMs = 0, targetQueue, ...rest } = overrides;
  const at = new Date(Date.now() - ageMs);
  const runs: NewRun[] = Array.from({ length: count }, () => ({
    id: newId('run', at),
    jobId: null,
    sceneId: null,
    flowName: 'flow-1',
    triggerType: 'manual',
    scheduledAt: at,
    triggeredAt: at,
    ...rest,
  }));
  await insertRuns(db.prisma, runs);
  const ids = runs.map((r) => r.id);
  if (targetQueue !== undefined) await dispatchRuns(db, ids, targetQueue);
  return ids;
}

/** Records runs as handed to `queue`, the way the dispatcher claims them. */
export async function dispatchRuns(db: Db, runIds: readonly string[], queue: string): Promise<void> {
  await db.prisma.$executeRawUnsafe(
    `UPDATE runs SET dispatched_at = triggered_at, target_queue = $2 WHERE id = ANY($1::text[])`,
    [...runIds],
    queue,
  );
}
