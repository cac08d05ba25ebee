/**
 * `/api/runs`: the run listing (filters, keyset paging newest first, restricted to the caller's scenes), one
 * run with its per-function summary, terminate, and log lines paged by seq. The live tail is in
 * run-logs-stream.ts.
 *
 * The listing is the API's hottest read (bench/api): identical listings share one query that started after
 * all of them arrived (shared-read.ts), and the page they share is turned into its body and serialised once.
 */
import { z } from 'zod';
import {
  getRunById,
  listRunLogLines,
  listRuns,
  type Page,
  type PageRequest,
  type Run as RunRow,
  type RunFilter,
} from '@kisjobs/db';
import {
  ConflictError,
  isFinalRunStatus,
  pageOf,
  Run,
  RunId,
  RunListQuery,
  RunLogPage,
  RunLogQuery,
  RunTerminateInput,
  RunTerminateResult,
} from '@kisjobs/protocol';
import type { RouteDeps } from '../deps.js';
import { loadInScene } from '../resource.js';
import { defineRoute, type ApiRequest, type Route } from '../route.js';
import { sharedRead } from '../shared-read.js';
import { logLineDto, runDto } from './run-dto.js';
import { actorOf, schedulerOf } from './scheduler-service.js';

export const RunParams = z.strictObject({ id: RunId });

/** Loads a run (404) and requires the route's action in its scene (403). */
export function runInScene(deps: RouteDeps, req: ApiRequest<{ id: string }>) {
  return loadInScene(
    req,
    'run',
    req.params.id,
    () => getRunById(deps.prisma, req.params.id),
    (run) => run.sceneId,
  );
}

interface Listing {
  readonly filter: RunFilter;
  readonly page: PageRequest;
}

/** Equal keys: the same statement with the same parameters. */
function listingKey({ filter, page }: Listing): string {
  return JSON.stringify([
    filter.jobId,
    filter.sceneIds,
    filter.statuses,
    filter.triggerTypes,
    filter.from?.getTime(),
    filter.to?.getTime(),
    page.limit,
    page.cursor,
  ]);
}

type RunPageBody = { readonly items: readonly Run[]; readonly nextCursor: string | null };

export function runRoutes(deps: RouteDeps): Route[] {
  const { prisma } = deps;
  const list = sharedRead((listing: Listing) => listRuns(prisma, listing.filter, listing.page), listingKey);
  // A page shared by several requests gets one body (and, through `sharedBody`, one serialisation).
  const bodies = new WeakMap<Page<RunRow>, RunPageBody>();
  const bodyOf = (page: Page<RunRow>): RunPageBody => {
    let body = bodies.get(page);
    if (body === undefined) {
      body = Object.freeze({ items: Object.freeze(page.items.map(runDto)), nextCursor: page.nextCursor });
      bodies.set(page, body);
    }
    return body;
  };
  return [
    defineRoute({
      id: 'runs.list',
      method: 'GET',
      path: '/api/runs',
      tags: ['runs'],
      summary: 'Runs, newest first, filtered by job, scene, status, trigger type and time',
      description:
        '`status` and `triggerType` take comma-separated lists. Only runs in the scenes you may see are listed; ' +
        'naming a scene you may not see is refused with 403.',
      access: { action: 'read' },
      query: RunListQuery,
      responses: { 200: { description: 'Runs, newest first', schema: pageOf(Run) } },
      handler: async (req) => {
        const { jobId, sceneId, status, triggerType, from, to, limit, cursor } = req.query;
        if (sceneId !== undefined) req.access.requireScene(sceneId);
        const visible = req.access.sceneFilter();
        const filter: RunFilter = {
          ...(jobId === undefined ? {} : { jobId }),
          ...(sceneId !== undefined
            ? { sceneIds: [sceneId] }
            : visible === undefined
              ? {}
              : { sceneIds: visible }),
          ...(status === undefined || status.length === 0 ? {} : { statuses: status }),
          ...(triggerType === undefined || triggerType.length === 0 ? {} : { triggerTypes: triggerType }),
          ...(from === undefined ? {} : { from: new Date(from) }),
          ...(to === undefined ? {} : { to: new Date(to) }),
        };
        const page = await list({ filter, page: { limit, cursor } });
        return { status: 200, body: bodyOf(page), sharedBody: true };
      },
    }),
    defineRoute({
      id: 'runs.get',
      method: 'GET',
      path: '/api/runs/:id',
      tags: ['runs'],
      summary: 'One run, with its per-function summary',
      access: { action: 'read', scene: 'from-resource' },
      params: RunParams,
      responses: { 200: { description: 'The run', schema: Run } },
      handler: async (req) => {
        const run = await runInScene(deps, req);
        return { status: 200, body: runDto(run) };
      },
    }),
    defineRoute({
      id: 'runs.terminate',
      method: 'POST',
      path: '/api/runs/:id/terminate',
      tags: ['runs'],
      summary: 'Terminate a run: a pending run ends at once, a running one within 2 s (even in a CPU loop)',
      access: { action: 'operate', scene: 'from-resource' },
      params: RunParams,
      body: RunTerminateInput.optional(),
      responses: {
        202: { description: 'Terminated, or the stop was sent to its executor', schema: RunTerminateResult },
      },
      errors: [409],
      audit: { targetType: 'run', targetId: (req) => req.params.id },
      handler: async (req) => {
        const run = await runInScene(deps, req);
        const finished = () =>
          new ConflictError(`run ${run.id} has already finished`, {
            code: 'RUN_ALREADY_FINISHED',
            details: { runId: run.id },
          });
        if (isFinalRunStatus(run.status)) throw finished();
        const result = await schedulerOf(deps).terminate(run.id, {
          requestedBy: actorOf(req.principal),
          reason: req.body?.reason ?? `terminated by ${req.principal.username}`,
        });
        if (result.outcome === 'already_finished') throw finished();
        return { status: 202, body: { runId: run.id, outcome: result.outcome } };
      },
    }),
    defineRoute({
      id: 'runs.logs',
      method: 'GET',
      path: '/api/runs/:id/logs',
      tags: ['runs'],
      summary: "A run's log lines in order, paged by seq",
      access: { action: 'read', scene: 'from-resource' },
      params: RunParams,
      query: RunLogQuery,
      responses: { 200: { description: 'Log lines after `afterSeq`', schema: RunLogPage } },
      handler: async (req) => {
        const run = await runInScene(deps, req);
        const afterSeq = req.query.afterSeq ?? -1;
        const lines = await listRunLogLines(prisma, run.id, { afterSeq, limit: req.query.limit ?? 500 });
        return {
          status: 200,
          body: {
            items: lines.map(logLineDto),
            nextAfterSeq: lines.at(-1)?.seq ?? afterSeq,
            runFinished: isFinalRunStatus(run.status),
          },
        };
      },
    }),
  ];
}
