/**
 * `GET /api/runs/:id/logs/stream`: a live tail of a run's log lines as Server-Sent Events.
 *
 *   id: 41            ← the line's seq: a reconnecting client sends it back as Last-Event-ID
 *   event: log
 *   data: {"seq":41,"at":"...","level":"info","funcName":"Calc","message":"...","fields":null}
 *
 * It starts after `Last-Event-ID` (or `?afterSeq=`), so a client that reconnects gets every line once, with
 * no gap. Lines are polled from Postgres; once the run has ended and its last lines have had time to arrive
 * (log lines travel on their own stream and may land just after the final state), an `end` event with the
 * run's status closes the stream. A comment line every `heartbeatMs` keeps proxies from closing it.
 */
import { z } from 'zod';
import { getRunById, listRunLogLines, type PrismaClient } from '@kisjobs/db';
import { isFinalRunStatus, ValidationError } from '@kisjobs/protocol';
import type { RouteDeps } from '../deps.js';
import { defineRoute, type Route, type StreamSink } from '../route.js';
import { logLineDto } from './run-dto.js';
import { RunParams, runInScene } from './runs.js';

export interface LogTailOptions {
  readonly pollMs: number;
  readonly heartbeatMs: number;
  /** Empty polls after the run ended before `end` is sent (late lines still arrive meanwhile). */
  readonly settlePolls: number;
}

export const DEFAULT_LOG_TAIL: LogTailOptions = { pollMs: 300, heartbeatMs: 15_000, settlePolls: 3 };

const StreamQuery = z.strictObject({ afterSeq: z.coerce.number().int().min(-1).optional() });
const BATCH = 500;

/** The seq to resume after: Last-Event-ID wins over `?afterSeq`; -1 means from the first line. */
export function resumeSeq(lastEventId: string | undefined, afterSeq: number | undefined): number {
  if (lastEventId !== undefined && lastEventId.trim() !== '') {
    const seq = Number(lastEventId.trim());
    if (!Number.isInteger(seq) || seq < -1) {
      throw new ValidationError([
        { path: 'Last-Event-ID', message: 'must be the id of an event of this stream' },
      ]);
    }
    return seq;
  }
  return afterSeq ?? -1;
}

export function sseEvent(event: string, data: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

async function tail(
  prisma: PrismaClient,
  runId: string,
  after: number,
  sink: StreamSink,
  options: LogTailOptions,
): Promise<void> {
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        sink.signal.removeEventListener('abort', done);
        resolve();
      }
      sink.signal.addEventListener('abort', done, { once: true });
    });
  let last = after;
  let quietSinceFinal = 0;
  let lastWrite = Date.now();
  await sink.write('retry: 2000\n\n');
  while (!sink.signal.aborted) {
    const run = await getRunById(prisma, runId);
    const lines = await listRunLogLines(prisma, runId, { afterSeq: last, limit: BATCH });
    for (const line of lines) {
      await sink.write(sseEvent('log', logLineDto(line), line.seq));
      last = line.seq;
    }
    if (lines.length > 0) lastWrite = Date.now();
    if (lines.length === BATCH) continue; // more waiting: no pause
    if (run === null || isFinalRunStatus(run.status)) {
      quietSinceFinal = lines.length === 0 ? quietSinceFinal + 1 : 0;
      if (quietSinceFinal >= options.settlePolls) {
        await sink.write(sseEvent('end', { runId, status: run?.status ?? 'deleted', lastSeq: last }));
        return;
      }
    }
    if (Date.now() - lastWrite >= options.heartbeatMs) {
      await sink.write(': keep-alive\n\n');
      lastWrite = Date.now();
    }
    await sleep(options.pollMs);
  }
}

export function runLogStreamRoutes(deps: RouteDeps, options: LogTailOptions = DEFAULT_LOG_TAIL): Route[] {
  const { prisma } = deps;
  return [
    defineRoute({
      id: 'runs.logs.stream',
      method: 'GET',
      path: '/api/runs/:id/logs/stream',
      tags: ['runs'],
      summary: "Tail a run's log lines live (Server-Sent Events; resumes after Last-Event-ID)",
      description:
        'Each line is an event `log` whose `id` is its seq; send the last one back as `Last-Event-ID` to resume. ' +
        'An `end` event carries the final status once the run has ended and its lines are all sent.',
      access: { action: 'read', scene: 'from-resource' },
      params: RunParams,
      query: StreamQuery,
      responses: { 200: { description: 'An event stream', contentType: 'text/event-stream' } },
      handler: async (req) => {
        const after = resumeSeq(req.header('last-event-id'), req.query.afterSeq);
        const run = await runInScene(deps, req);
        return {
          status: 200,
          contentType: 'text/event-stream; charset=utf-8',
          headers: { 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no' },
          stream: (sink) => tail(prisma, run.id, after, sink, options),
        };
      },
    }),
  ];
}
