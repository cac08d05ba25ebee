/**
 * Pure mapping of protocol RunEvents (what executors write to the streams) onto the db package's shapes:
 * lifecycle events for `applyRunEvents`, log lines for `insertRunLogLines`. `progress` events are not
 * written: the `finished` event carries the whole per-function summary, and a live view of a running
 * flow is better served by the log tail than by rewriting the run row after every function.
 *
 * Postgres refuses U+0000 in text and jsonb, and a flow can log binary junk: every string of an event is
 * cleaned of it (replaced by U+FFFD) so that one such line cannot fail a whole batch.
 */
import type { RunEvent as ProtocolRunEvent, RunFinishedEvent } from '@kisjobs/protocol';
import type { NewRunLogLine, RunEvent as DbRunEvent } from '@kisjobs/db';

export type Classified =
  | { readonly kind: 'lifecycle'; readonly event: DbRunEvent }
  | { readonly kind: 'log'; readonly line: NewRunLogLine }
  | { readonly kind: 'progress' };

const NUL = String.fromCharCode(0);

/** A deep copy of `value` with U+0000 replaced in every string (keys included). */
export function withoutNul<T>(value: T): T {
  return clean(value) as T;
}

function clean(value: unknown): unknown {
  if (typeof value === 'string') return value.includes(NUL) ? value.replaceAll(NUL, '\uFFFD') : value;
  if (Array.isArray(value)) return value.map(clean);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[clean(key) as string] = clean(inner);
    return out;
  }
  return value;
}

export function finishedToDb(event: RunFinishedEvent): DbRunEvent {
  return {
    type: 'finished',
    runId: event.runId,
    at: new Date(event.at),
    status: event.status,
    summary: event.summary,
    errorMessage: event.error?.message ?? null,
    errorCode: event.error?.code ?? null,
    executorInstanceId: event.instanceId,
  };
}

export function classify(raw: ProtocolRunEvent): Classified {
  const event = withoutNul(raw);
  switch (event.type) {
    case 'started':
      return {
        kind: 'lifecycle',
        event: {
          type: 'started',
          runId: event.runId,
          at: new Date(event.at),
          executorInstanceId: event.instanceId,
        },
      };
    case 'finished':
      return { kind: 'lifecycle', event: finishedToDb(event) };
    case 'log':
      return {
        kind: 'log',
        line: {
          runId: event.runId,
          seq: event.seq,
          at: new Date(event.at),
          level: event.level,
          funcName: event.funcName ?? null,
          message: event.message,
          fields: event.fields ?? null,
        },
      };
    case 'progress':
      return { kind: 'progress' };
  }
}
