/**
 * Writes one batch of stream entries to Postgres: log lines with `insertRunLogLines` (idempotent on
 * (run, seq)), lifecycle events with `applyRunEvents` (one transaction; final states never regress).
 * Both are idempotent, so a batch that fails halfway is simply applied again.
 *
 * Note: the db package's `applyRunEvents` opens its own transaction on the root client, so the log lines
 * and the lifecycle events of a batch are two commits rather than one. Nothing is acknowledged before
 * both have committed, and a repeat is a no-op, so no event is lost or doubled either way.
 *
 * Poison: an entry that Postgres refuses for its content (a data or constraint error, SQLSTATE class 22
 * or 23, e.g. an integer out of range) would fail its batch for ever. When `isPoison` says the error is of
 * that kind, the batch is split in halves and each half applied on its own, down to the single entry that
 * fails, which goes to the dead-letter stream; the rest of the batch is written.
 */
import {
  applyRunEvents,
  insertRunLogLines,
  type NewRunLogLine,
  type PrismaClient,
  type RunEvent as DbRunEvent,
  type RunTransition,
} from '@kisjobs/db';
import type { RunEvent } from '@kisjobs/protocol';
import { errorMessage } from '../registry/ports.js';
import { classify } from './mapping.js';
import type { DeadLetter, StreamEntry } from './stream-group.js';

export interface DecodedEntry {
  readonly entry: StreamEntry;
  readonly event: RunEvent;
}

export interface BatchResult {
  readonly transitions: readonly RunTransition[];
  /** Lifecycle events that found their run final (or missing), or repeated another event of the batch. */
  readonly ignored: number;
  readonly logLinesInserted: number;
  /** Log lines already stored (a re-delivery) or whose run does not exist. */
  readonly logLinesSkipped: number;
  readonly progressSkipped: number;
  readonly poison: readonly DeadLetter[];
}

const EMPTY: BatchResult = {
  transitions: [],
  ignored: 0,
  logLinesInserted: 0,
  logLinesSkipped: 0,
  progressSkipped: 0,
  poison: [],
};

/** The SQLSTATE of a Postgres error as Prisma (driver adapter) reports it, if there is one. */
export function sqlStateOf(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): string | undefined => {
    if (value === null || typeof value !== 'object' || depth > 6 || seen.has(value)) return undefined;
    seen.add(value);
    const record = value as Record<string, unknown>;
    const code = record['originalCode'];
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    for (const key of ['meta', 'driverAdapterError', 'cause']) {
      const found = visit(record[key], depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  const found = visit(error, 0);
  if (found !== undefined) return found;
  const match = /Code: `([0-9A-Z]{5})`/.exec(errorMessage(error));
  return match?.[1];
}

/** Data exceptions (22xxx) and integrity violations (23xxx): retrying the same rows cannot help. */
export function isDataError(error: unknown): boolean {
  const state = sqlStateOf(error);
  return state !== undefined && (state.startsWith('22') || state.startsWith('23'));
}

/**
 * Postgres unreachable, restarting, out of connections or shutting down: never the content's fault
 * (SQLSTATE 08 connection, 53 resources, 57 operator intervention, or a driver-level connection error).
 */
export function isConnectionError(error: unknown): boolean {
  const state = sqlStateOf(error);
  if (state !== undefined && /^(08|53|57)/.test(state)) return true;
  const text = `${errorMessage(error)} ${safeJson(error)}`;
  return /DatabaseNotReachable|ConnectionClosed|TooManyConnections|ECONNREFUSED|ECONNRESET|Can't reach database|Connection terminated|connection is closed|timed? ?out/i.test(
    text,
  );
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

async function applyOnce(prisma: PrismaClient, entries: readonly DecodedEntry[]): Promise<BatchResult> {
  const lifecycle: DbRunEvent[] = [];
  const lines: NewRunLogLine[] = [];
  let progressSkipped = 0;
  for (const { event } of entries) {
    const classified = classify(event);
    if (classified.kind === 'lifecycle') lifecycle.push(classified.event);
    else if (classified.kind === 'log') lines.push(classified.line);
    else progressSkipped += 1;
  }
  const logLinesInserted = lines.length > 0 ? await insertRunLogLines(prisma, lines) : 0;
  const result = await applyRunEvents(prisma, lifecycle);
  return {
    transitions: result.applied,
    ignored: result.ignored.length,
    logLinesInserted,
    logLinesSkipped: lines.length - logLinesInserted,
    progressSkipped,
    poison: [],
  };
}

function merge(a: BatchResult, b: BatchResult): BatchResult {
  return {
    transitions: [...a.transitions, ...b.transitions],
    ignored: a.ignored + b.ignored,
    logLinesInserted: a.logLinesInserted + b.logLinesInserted,
    logLinesSkipped: a.logLinesSkipped + b.logLinesSkipped,
    progressSkipped: a.progressSkipped + b.progressSkipped,
    poison: [...a.poison, ...b.poison],
  };
}

/**
 * Applies the entries; throws when Postgres fails for a reason other than the content (the caller keeps
 * the entries and retries). `isPoison` decides whether an error is about the content.
 */
export async function applyEntries(
  prisma: PrismaClient,
  entries: readonly DecodedEntry[],
  isPoison: (error: unknown) => Promise<boolean>,
): Promise<BatchResult> {
  if (entries.length === 0) return EMPTY;
  try {
    return await applyOnce(prisma, entries);
  } catch (error) {
    if (!(await isPoison(error))) throw error;
    const [only] = entries;
    if (entries.length === 1 && only !== undefined) {
      // One more try before giving up on an entry for an error that does not name its content.
      if (!isDataError(error)) {
        try {
          return await applyOnce(prisma, entries);
        } catch (again) {
          if (!(await isPoison(again))) throw again;
        }
      }
      return {
        ...EMPTY,
        poison: [{ entry: only.entry, reason: `postgres refused it: ${errorMessage(error)}` }],
      };
    }
    const middle = Math.ceil(entries.length / 2);
    const first = await applyEntries(prisma, entries.slice(0, middle), isPoison);
    return merge(first, await applyEntries(prisma, entries.slice(middle), isPoison));
  }
}
