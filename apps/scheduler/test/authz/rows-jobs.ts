/**
 * Matrix rows of the job routes. Jobs are made through the scheduler's service in the row's scene, in one
 * executor group created on first use, with a one-function flow; writes over HTTP pass `allowUnimplemented=true` (no executor runs
 * in the matrix), so what is measured is who may call them.
 */
import type { Scheduler } from '../../src/scheduler.js';
import { operate, ownedByAdmin, signedIn, type Case, type Ctx } from './kit.js';

const GROUP = 'matrix';
const groups = new WeakMap<Scheduler, Promise<unknown>>();

function schedulerOf(ctx: Ctx): Scheduler {
  const scheduler = ctx.env.scheduler;
  if (scheduler === undefined) throw new Error('the matrix runs with a scheduler');
  return scheduler;
}

async function ensureGroup(ctx: Ctx): Promise<void> {
  const scheduler = schedulerOf(ctx);
  let made = groups.get(scheduler);
  if (made === undefined) {
    made = Promise.all([
      scheduler.createGroup({ name: GROUP }),
      scheduler.putConfigDocuments([
        {
          file: 'matrix.yml',
          text: [
            'kistype: func\nfname: MatrixFn\nfmode: Calculate\nsource:\n  name: matrix\n  must: []\n',
            'kistype: flow\nflow_name: matrix-flow\nflows:\n  - fname: MatrixFn\n',
          ].join('---\n'),
        },
      ]),
    ]);
    groups.set(scheduler, made);
  }
  await made;
}

function jobBody(ctx: Ctx, sceneId: string) {
  return {
    name: ctx.fresh('job'),
    sceneId,
    flowName: 'matrix-flow',
    group: GROUP,
    schedule: { type: 'cron', expr: '0 0 * * * *', timezone: 'Europe/Berlin' },
  };
}

async function jobIn(ctx: Ctx): Promise<string> {
  await ensureGroup(ctx);
  return (await schedulerOf(ctx).createJob(jobBody(ctx, ctx.sceneId))).id;
}

const onJob = (method: string, suffix: string, expect: 'read' | 'operate', body?: unknown): Case => ({
  method,
  request: async (ctx) => ({
    path: `/api/jobs/${await jobIn(ctx)}${suffix}`,
    ...(body === undefined ? {} : { body }),
  }),
  inside:
    expect === 'read' ? signedIn(method === 'DELETE' ? 204 : 200) : operate(method === 'DELETE' ? 204 : 200),
  outside: ownedByAdmin(method === 'DELETE' ? 204 : 200),
});

export const JOB_ROWS: Record<string, Case> = {
  'jobs.list': { method: 'GET', request: () => ({ path: '/api/jobs' }), inside: signedIn(200) },
  'jobs.create': {
    method: 'POST',
    request: async (ctx) => {
      await ensureGroup(ctx);
      return { path: '/api/jobs?allowUnimplemented=true', body: jobBody(ctx, ctx.sceneId) };
    },
    inside: operate(201),
    outside: ownedByAdmin(201),
  },
  'jobs.get': onJob('GET', '', 'read'),
  'jobs.update': onJob('PATCH', '', 'operate', { description: 'changed' }),
  'jobs.delete': onJob('DELETE', '', 'operate'),
  'jobs.trigger': {
    method: 'POST',
    request: async (ctx) => ({ path: `/api/jobs/${await jobIn(ctx)}/trigger`, body: { params: { k: 'v' } } }),
    inside: operate(202),
    outside: ownedByAdmin(202),
  },
  'jobs.pause': onJob('POST', '/pause', 'operate'),
  'jobs.resume': onJob('POST', '/resume', 'operate'),
  'jobs.enable': onJob('POST', '/enable', 'operate'),
  'jobs.disable': onJob('POST', '/disable', 'operate'),
  'jobs.nextFires': onJob('GET', '/next-fires?count=3', 'read'),
  'schedule.preview': {
    method: 'POST',
    request: () => ({
      path: '/api/schedule/preview',
      body: { schedule: { type: 'cron', expr: '*/5 * * * *', timezone: 'UTC' }, count: 2 },
    }),
    inside: signedIn(200),
  },
};
