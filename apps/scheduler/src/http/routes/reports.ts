/**
 * `/api/reports`: per-day run counts by status with the success ratio, and the slowest and most-failing
 * jobs, over a range (default the last 30 days, at most 366). Restricted to the caller's scenes; naming a
 * scene you may not see is 403. A job named by `jobId` must be visible too.
 */
import { dailyRunCounts, mostFailingJobs, slowestJobs, type ReportScope } from '@kisjobs/db';
import {
  DailyReport,
  DailyReportQuery,
  FINAL_RUN_STATUSES,
  JobsReport,
  JobsReportQuery,
  MAX_REPORT_DAYS,
  ValidationError,
  type RunStatus,
} from '@kisjobs/protocol';
import type { RouteDeps } from '../deps.js';
import { defineRoute, type AccessContext, type Route } from '../route.js';

const DAY_MS = 24 * 60 * 60 * 1000;

function scopeOf(
  access: AccessContext,
  query: { readonly from?: string; readonly to?: string; readonly sceneId?: string },
  now: Date,
): ReportScope {
  const to = query.to === undefined ? now : new Date(query.to);
  const from = query.from === undefined ? new Date(to.getTime() - 30 * DAY_MS) : new Date(query.from);
  if (from.getTime() >= to.getTime())
    throw new ValidationError([{ path: 'query.from', message: 'must be before to' }]);
  if (to.getTime() - from.getTime() > MAX_REPORT_DAYS * DAY_MS) {
    throw new ValidationError([
      { path: 'query.from', message: `the range may span at most ${MAX_REPORT_DAYS} days` },
    ]);
  }
  if (query.sceneId !== undefined) access.requireScene(query.sceneId);
  const visible = access.sceneFilter();
  return {
    from,
    to,
    ...(query.sceneId !== undefined
      ? { sceneIds: [query.sceneId] }
      : visible === undefined
        ? {}
        : { sceneIds: visible }),
  };
}

/** The endings that count for the success ratio (a `skipped` run never ran). */
const ENDED: readonly RunStatus[] = FINAL_RUN_STATUSES.filter((s) => s !== 'skipped');

function ratio(counts: Partial<Record<RunStatus, number>>): number | null {
  const finished = ENDED.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
  return finished === 0 ? null : (counts.succeeded ?? 0) / finished;
}

export function reportRoutes(deps: RouteDeps): Route[] {
  const { prisma, clock } = deps;
  return [
    defineRoute({
      id: 'reports.daily',
      method: 'GET',
      path: '/api/reports/daily',
      tags: ['reports'],
      summary: 'Runs per day and status, with the success ratio',
      access: { action: 'read' },
      query: DailyReportQuery,
      responses: {
        200: { description: 'Days with runs, oldest first, and the totals', schema: DailyReport },
      },
      handler: async (req) => {
        const scope = scopeOf(req.access, req.query, clock.now());
        if (req.query.jobId !== undefined) {
          const job = await prisma.job.findUnique({
            where: { id: req.query.jobId },
            select: { sceneId: true },
          });
          if (job !== null) req.access.requireScene(job.sceneId);
        }
        const timezone = req.query.timezone ?? 'UTC';
        const rows = await dailyRunCounts(
          prisma,
          { ...scope, ...(req.query.jobId === undefined ? {} : { jobId: req.query.jobId }) },
          timezone,
        );
        const byDay = new Map<string, Partial<Record<RunStatus, number>>>();
        const totals: Partial<Record<RunStatus, number>> = {};
        for (const row of rows) {
          const status = row.status as RunStatus;
          const counts = byDay.get(row.day) ?? {};
          counts[status] = row.count;
          byDay.set(row.day, counts);
          totals[status] = (totals[status] ?? 0) + row.count;
        }
        const sum = (counts: Partial<Record<RunStatus, number>>) =>
          Object.values(counts).reduce((a, b) => a + b, 0);
        return {
          status: 200,
          body: {
            timezone,
            days: [...byDay].map(([day, counts]) => ({
              day,
              counts,
              total: sum(counts),
              successRatio: ratio(counts),
            })),
            totals: { counts: totals, total: sum(totals), successRatio: ratio(totals) },
          },
        };
      },
    }),
    defineRoute({
      id: 'reports.jobs',
      method: 'GET',
      path: '/api/reports/jobs',
      tags: ['reports'],
      summary: 'The slowest jobs (p95 duration) and the most-failing jobs (failed, timed out or lost runs)',
      access: { action: 'read' },
      query: JobsReportQuery,
      responses: { 200: { description: 'Both rankings', schema: JobsReport } },
      handler: async (req) => {
        const scope = scopeOf(req.access, req.query, clock.now());
        const limit = req.query.limit ?? 10;
        const [slowest, failing] = await Promise.all([
          slowestJobs(prisma, scope, limit),
          mostFailingJobs(prisma, scope, limit),
        ]);
        return {
          status: 200,
          body: {
            slowest,
            mostFailing: failing.map((f) => ({
              ...f,
              failureRatio: f.finished === 0 ? 0 : Math.min(1, f.failures / f.finished),
            })),
          },
        };
      },
    }),
  ];
}
