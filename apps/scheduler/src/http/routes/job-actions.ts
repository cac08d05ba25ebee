/**
 * Job actions: trigger now (with a params override), pause and resume, enable and disable, the next fire
 * times of a job, and a preview of an unsaved schedule.
 */
import {
  Job,
  JobTriggerInput,
  JobTriggerResult,
  NextFires,
  NextFiresQuery,
  SchedulePreviewInput,
  UnavailableError,
  KisJobsError,
} from '@kisjobs/protocol';
import { jobDto } from '../../service/jobs.js';
import { EXECUTOR_UNAVAILABLE } from '../../dispatch/deliver.js';
import type { RouteDeps } from '../deps.js';
import { defineRoute, type Route } from '../route.js';
import { JobParams, jobInScene } from './jobs.js';
import { actorOf, schedulerOf, triggerTypeOf } from './scheduler-service.js';

type LifecycleAction = 'pause' | 'resume' | 'enable' | 'disable';

const LIFECYCLE: Record<LifecycleAction, string> = {
  pause: 'Pause a job: it keeps its schedule but does not fire until resumed',
  resume: 'Resume a paused job: its misfire policy decides about the instants it missed',
  enable: 'Enable a job: its schedule starts again from now',
  disable: 'Disable a job: it does not fire, and misses nothing on enable',
};

export function jobActionRoutes(deps: RouteDeps): Route[] {
  const target = { targetType: 'job', targetId: (req: { params: { id: string } }) => req.params.id };
  const lifecycle = (action: LifecycleAction): Route =>
    defineRoute({
      id: `jobs.${action}`,
      method: 'POST',
      path: `/api/jobs/:id/${action}`,
      tags: ['jobs'],
      summary: LIFECYCLE[action],
      access: { action: 'operate', scene: 'from-resource' },
      params: JobParams,
      responses: { 200: { description: 'The job', schema: Job } },
      audit: target,
      handler: async (req) => {
        const job = await jobInScene(deps, req);
        const schedule = schedulerOf(deps).schedule;
        const row =
          action === 'pause'
            ? await schedule.pauseJob(job.id)
            : action === 'resume'
              ? await schedule.resumeJob(job.id)
              : action === 'enable'
                ? await schedule.enableJob(job.id)
                : await schedule.disableJob(job.id);
        return { status: 200, body: jobDto(row, job.executorGroup.name) };
      },
    });
  return [
    defineRoute({
      id: 'jobs.trigger',
      method: 'POST',
      path: '/api/jobs/:id/trigger',
      tags: ['jobs'],
      summary: 'Run a job now, with params overriding its own',
      description:
        'The run records trigger type `manual` when the caller signed in (a session: the console or the CLI) ' +
        'and `api` when the caller used an API token.',
      access: { action: 'operate', scene: 'from-resource' },
      params: JobParams,
      body: JobTriggerInput.optional(),
      responses: { 202: { description: 'The runs this trigger made', schema: JobTriggerResult } },
      errors: [409, 422, 503],
      audit: { ...target, details: (req) => ({ params: Object.keys(req.body?.params ?? {}) }) },
      handler: async (req) => {
        const job = await jobInScene(deps, req);
        const result = await schedulerOf(deps).trigger(job.id, {
          triggerType: triggerTypeOf(req.principal),
          triggeredBy: actorOf(req.principal),
          params: req.body?.params ?? {},
        });
        if (result.outcome === 'failed') {
          const error = result.error ?? { code: 'NO_EXECUTOR_AVAILABLE', message: 'the run could not start' };
          // The dispatcher records EXECUTOR_UNAVAILABLE on the run; the API answers with the documented 503.
          if (error.code === 'NO_EXECUTOR_AVAILABLE' || error.code === EXECUTOR_UNAVAILABLE)
            throw new UnavailableError(error.message, { code: 'NO_EXECUTOR_AVAILABLE' });
          throw new KisJobsError('UNPROCESSABLE', error.message, {
            details: { runIds: result.runIds, code: error.code },
          });
        }
        return {
          status: 202,
          body: {
            runIds: [...result.runIds],
            outcome: result.outcome,
            ...(result.skipped === undefined ? {} : { skipReason: result.skipped.reason }),
          },
          audit: { details: { runIds: [...result.runIds], outcome: result.outcome } },
        };
      },
    }),
    lifecycle('pause'),
    lifecycle('resume'),
    lifecycle('enable'),
    lifecycle('disable'),
    defineRoute({
      id: 'jobs.nextFires',
      method: 'GET',
      path: '/api/jobs/:id/next-fires',
      tags: ['jobs'],
      summary: 'The next fire times of a job (whether or not it is enabled or paused)',
      access: { action: 'read', scene: 'from-resource' },
      params: JobParams,
      query: NextFiresQuery,
      responses: { 200: { description: 'Instants, earliest first', schema: NextFires } },
      handler: async (req) => {
        const job = await jobInScene(deps, req);
        const times = await schedulerOf(deps).schedule.preview({
          jobId: job.id,
          count: req.query.count ?? 10,
        });
        return { status: 200, body: { fireTimes: times.map((t) => t.toISOString()) } };
      },
    }),
    defineRoute({
      id: 'schedule.preview',
      method: 'POST',
      path: '/api/schedule/preview',
      tags: ['jobs'],
      summary: 'The next fire times of an unsaved schedule (cron with time zone, fixed rate, once)',
      access: { action: 'read' },
      body: SchedulePreviewInput,
      responses: { 200: { description: 'Instants, earliest first', schema: NextFires } },
      handler: async (req) => {
        const times = await schedulerOf(deps).schedule.preview({
          schedule: req.body.schedule,
          window: req.body.window ?? null,
          count: req.body.count,
          ...(req.body.after === undefined ? {} : { after: new Date(req.body.after) }),
        });
        return { status: 200, body: { fireTimes: times.map((t) => t.toISOString()) } };
      },
    }),
  ];
}
