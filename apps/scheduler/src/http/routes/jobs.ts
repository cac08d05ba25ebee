/**
 * `/api/jobs`: listing (inside the caller's scenes), create, read, update, delete. Writes check that an
 * online executor of the job's group implements its flow (422 FLOW_NOT_IMPLEMENTED unless
 * `?allowUnimplemented=true`), and every change of the schedule goes through the schedule engine, which
 * clears the job's lease so no fire planned from the old definition happens. Actions (trigger, pause...)
 * are in job-actions.ts.
 */
import { z } from 'zod';
import { getJobWithGroup, listJobs, type JobFilter } from '@kisjobs/db';
import {
  Job,
  JobId,
  JobInput,
  JobListQuery,
  JobPatch,
  JobWriteQuery,
  NotFoundError,
  pageOf,
} from '@kisjobs/protocol';
import { checkFlowImplemented, FlowNotImplementedError } from '../../service/flow-implemented.js';
import { createJob, deleteJob, jobDto, updateJob } from '../../service/jobs.js';
import type { RouteDeps } from '../deps.js';
import { loadInScene } from '../resource.js';
import { defineRoute, type ApiRequest, type Route } from '../route.js';
import { schedulerOf } from './scheduler-service.js';

export const JobParams = z.strictObject({ id: JobId });

/**
 * Set on a write saved with `allowUnimplemented=true` that no online executor can run yet
 * (`FLOW_NOT_IMPLEMENTED: …`), and on one whose e-mail alerts this scheduler cannot send
 * (`ALERTS_EMAIL_OFF: …`); several warnings are comma-separated.
 */
export const WARNING_HEADER = 'X-KisJobs-Warning';

/** Header values are Latin-1 without controls: anything else (names may be Unicode) becomes `?`. */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 1000);
}

/**
 * A job whose alerts name e-mail addresses is saved even when this scheduler has no SMTP settings (its
 * e-mail deliveries are then recorded failed, saying why); the answer warns about it.
 */
function emailOffWarning(deps: RouteDeps, alerts: JobInput['alerts'] | undefined): string | undefined {
  const to = alerts?.email?.to ?? [];
  if (to.length === 0 || deps.services.scheduler?.alerts.emailEnabled !== false) return undefined;
  return 'ALERTS_EMAIL_OFF: this scheduler has no SMTP settings (KISJOBS_SMTP_URL), so e-mail alerts are recorded failed, not sent';
}

/** Adds a warning to the headers of an answer (several are comma-separated). */
function withWarning(headers: Record<string, string>, warning: string | undefined): Record<string, string> {
  if (warning === undefined) return headers;
  const current = headers[WARNING_HEADER];
  return {
    ...headers,
    [WARNING_HEADER]: headerSafe(current === undefined ? warning : `${current}, ${warning}`),
  };
}

/** Loads a job (404) and requires the route's action in its scene (403). */
export function jobInScene(deps: RouteDeps, req: ApiRequest<{ id: string }>) {
  return loadInScene(
    req,
    'job',
    req.params.id,
    () => getJobWithGroup(deps.prisma, req.params.id),
    (job) => job.sceneId,
  );
}

export function jobRoutes(deps: RouteDeps): Route[] {
  const { prisma, clock } = deps;
  /**
   * Refuses an unimplemented flow; with `allowUnimplemented=true` the job is saved and the answer (the strict
   * Job DTO) carries the reason in an `X-KisJobs-Warning` header instead.
   */
  const requireImplemented = async (
    flowName: string,
    group: string,
    allow: boolean | undefined,
  ): Promise<Record<string, string>> => {
    // A group that does not exist is the clearer answer (404 GROUP_NOT_FOUND), so it comes first.
    const known = await prisma.executorGroup.findUnique({ where: { name: group }, select: { id: true } });
    if (known === null) {
      if (allow === true) return {};
      throw new NotFoundError('group', group);
    }
    const check = checkFlowImplemented(schedulerOf(deps), flowName, group);
    if (allow !== true) {
      const report = await check;
      if (!report.ok) throw new FlowNotImplementedError(report, flowName, group);
      return {};
    }
    // Allowed: the check only informs, so a registry that cannot answer does not block the write.
    const report = await check.catch(() => null);
    return report === null || report.ok
      ? {}
      : { [WARNING_HEADER]: headerSafe(`FLOW_NOT_IMPLEMENTED: ${report.message}`) };
  };
  const target = { targetType: 'job', targetId: (req: { params: { id: string } }) => req.params.id };
  return [
    defineRoute({
      id: 'jobs.list',
      method: 'GET',
      path: '/api/jobs',
      tags: ['jobs'],
      summary: 'Jobs you may see, newest first',
      access: { action: 'read' },
      query: JobListQuery,
      responses: { 200: { description: 'Jobs', schema: pageOf(Job) } },
      handler: async (req) => {
        const { sceneId, group, flowName, enabled, paused, q, limit, cursor } = req.query;
        if (sceneId !== undefined) req.access.requireScene(sceneId);
        const visible = req.access.sceneFilter();
        let groupId: string | undefined;
        if (group !== undefined) {
          const row = await prisma.executorGroup.findUnique({ where: { name: group }, select: { id: true } });
          if (row === null) return { status: 200, body: { items: [], nextCursor: null } };
          groupId = row.id;
        }
        const filter: JobFilter = {
          ...(sceneId !== undefined
            ? { sceneIds: [sceneId] }
            : visible === undefined
              ? {}
              : { sceneIds: visible }),
          ...(groupId === undefined ? {} : { groupId }),
          ...(flowName === undefined ? {} : { flowName }),
          ...(enabled === undefined ? {} : { enabled }),
          ...(paused === undefined ? {} : { paused }),
          ...(q === undefined ? {} : { nameContains: q }),
        };
        const page = await listJobs(prisma, filter, { limit, cursor });
        return {
          status: 200,
          body: {
            items: page.items.map((j) => jobDto(j, j.executorGroup.name)),
            nextCursor: page.nextCursor,
          },
        };
      },
    }),
    defineRoute({
      id: 'jobs.create',
      method: 'POST',
      path: '/api/jobs',
      tags: ['jobs'],
      summary: 'Create a job',
      description:
        'Refused with 422 FLOW_NOT_IMPLEMENTED when no online executor of the group implements every function ' +
        'of the flow, unless `allowUnimplemented=true`. E-mail alerts on a scheduler without SMTP settings ' +
        'are saved with an `X-KisJobs-Warning: ALERTS_EMAIL_OFF: …` header.',
      access: { action: 'operate', scene: (req) => req.body.sceneId },
      query: JobWriteQuery,
      body: JobInput,
      responses: { 201: { description: 'Created', schema: Job } },
      errors: [409, 422],
      audit: { targetType: 'job', details: (req) => ({ name: req.body.name, flowName: req.body.flowName }) },
      handler: async (req) => {
        const headers = await requireImplemented(
          req.body.flowName,
          req.body.group,
          req.query.allowUnimplemented,
        );
        const job = await createJob(prisma, req.body, {
          now: clock.now(),
          createdById: req.principal.userId,
        });
        return {
          status: 201,
          headers: withWarning(headers, emailOffWarning(deps, req.body.alerts)),
          body: job,
          audit: { targetId: job.id },
        };
      },
    }),
    defineRoute({
      id: 'jobs.get',
      method: 'GET',
      path: '/api/jobs/:id',
      tags: ['jobs'],
      summary: 'One job',
      access: { action: 'read', scene: 'from-resource' },
      params: JobParams,
      responses: { 200: { description: 'The job', schema: Job } },
      handler: async (req) => {
        const job = await jobInScene(deps, req);
        return { status: 200, body: jobDto(job, job.executorGroup.name) };
      },
    }),
    defineRoute({
      id: 'jobs.update',
      method: 'PATCH',
      path: '/api/jobs/:id',
      tags: ['jobs'],
      summary: 'Change a job: each field given replaces the stored one; the schedule restarts from now',
      access: { action: 'operate', scene: 'from-resource' },
      params: JobParams,
      query: JobWriteQuery,
      body: JobPatch,
      responses: { 200: { description: 'The job', schema: Job } },
      errors: [409, 422],
      audit: { ...target, details: (req) => ({ fields: Object.keys(req.body) }) },
      handler: async (req) => {
        const current = await jobInScene(deps, req);
        if (req.body.sceneId !== undefined) req.access.requireScene(req.body.sceneId);
        const flowName = req.body.flowName ?? current.flowName;
        const group = req.body.group ?? current.executorGroup.name;
        const headers =
          req.body.flowName !== undefined || req.body.group !== undefined
            ? await requireImplemented(flowName, group, req.query.allowUnimplemented)
            : {};
        const { input } = await updateJob(prisma, current.id, req.body, {
          ...(req.query.version === undefined ? {} : { expectedVersion: req.query.version }),
        });
        const row = await schedulerOf(deps).schedule.recompute(current.id);
        return {
          status: 200,
          headers: withWarning(headers, emailOffWarning(deps, req.body.alerts)),
          body: jobDto(row, input.group),
        };
      },
    }),
    defineRoute({
      id: 'jobs.delete',
      method: 'DELETE',
      path: '/api/jobs/:id',
      tags: ['jobs'],
      summary: 'Delete a job (its runs keep their history)',
      access: { action: 'operate', scene: 'from-resource' },
      params: JobParams,
      responses: { 204: { description: 'Deleted' } },
      errors: [409],
      audit: target,
      handler: async (req) => {
        const job = await jobInScene(deps, req);
        await deleteJob(prisma, job.id);
        return { status: 204 };
      },
    }),
  ];
}
