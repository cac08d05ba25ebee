/** A run row as the API returns it (`Run` in @kisjobs/protocol). */
import type { Run as RunRow, RunLogLine as RunLogLineRow } from '@kisjobs/db';
import { FunctionSummary, type Run, type RunLogLine } from '@kisjobs/protocol';
import { z } from 'zod';

const Summary = z.array(FunctionSummary);

/** The per-function summary, or [] when there is none or it is not one (a run still pending has none). */
function functionsOf(summary: RunRow['summary']): Run['functions'] {
  if (summary === null || (Array.isArray(summary) && summary.length === 0)) return [];
  const parsed = Summary.safeParse(summary);
  return parsed.success ? parsed.data : [];
}

export function runDto(row: RunRow): Run {
  return {
    id: row.id,
    jobId: row.jobId,
    sceneId: row.sceneId,
    flowName: row.flowName,
    status: row.status,
    skipReason: row.skipReason,
    triggerType: row.triggerType,
    triggeredBy: row.triggeredBy,
    scheduledAt: row.scheduledAt.toISOString(),
    triggeredAt: row.triggeredAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
    durationMs: row.durationMs,
    attempt: row.attempt,
    maxAttempts: row.maxAttempts,
    parentRunId: row.parentRunId,
    executorInstanceId: row.executorInstanceId,
    executorGroup: row.executorGroup,
    shardIndex: row.shardIndex,
    shardTotal: row.shardTotal,
    params: (row.params ?? {}) as Record<string, string>,
    functions: functionsOf(row.summary),
    error:
      row.errorMessage === null && row.errorCode === null
        ? null
        : { code: row.errorCode, message: row.errorMessage ?? '' },
  };
}

export function logLineDto(row: RunLogLineRow): RunLogLine {
  return {
    seq: row.seq,
    at: row.at.toISOString(),
    level: row.level,
    funcName: row.funcName,
    message: row.message,
    fields: (row.fields ?? null) as Record<string, unknown> | null,
  };
}
