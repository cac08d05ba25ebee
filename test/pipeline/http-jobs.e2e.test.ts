/**
 * The job routes end to end over real HTTP with a real executor child process: create (every bad field
 * named, nothing saved; refused when no online executor implements the flow unless allowed), list inside
 * the caller's scenes, read, update with optimistic versions, trigger with a params override through to a
 * succeeded run, pause / resume / disable / enable, next fire times and an unsaved schedule's preview, and
 * delete (refused while another job names it as a child).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveApi, type ApiUser, type ServedApi } from '../support/http-api.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

let p: Pipeline;
let api: ServedApi;
let admin: ApiUser;
let operator: ApiUser;
let viewer: ApiUser;
let n = 0;

const body = (fields: Record<string, unknown> = {}) => ({
  name: `job ${++n}`,
  sceneId: p.sceneId,
  flowName: 'etl',
  group: p.group,
  schedule: { type: 'cron', expr: '*/10 * * * * *', timezone: 'America/New_York' },
  ...fields,
});

type JobBody = { id: string; version: number; paused: boolean; enabled: boolean; nextFireAt: string | null };
type ErrorBody = {
  error: { code: string; details?: { issues?: { path: string }[] } & Record<string, unknown> };
};

beforeAll(async () => {
  p = await startPipeline('e2e-http-jobs');
  await p.spawnExecutor({ instanceId: 'http-jobs-a', concurrency: 4 });
  api = await serveApi(p);
  admin = await api.login('admin');
  operator = await api.login('operator', [p.sceneId]);
  const other = await p.scheduler.createScene({ name: 'elsewhere' });
  viewer = await api.login('viewer', [other.id]);
});
afterAll(async () => {
  await api?.close();
  await p?.close();
});

describe('create, read, list', () => {
  it('creates a cron job in a time zone with its next fire time, readable and listed', async () => {
    const created = await api.call('POST', '/api/jobs', { token: operator.token, body: body() });
    expect(created.status).toBe(201);
    const job = created.body as JobBody & { schedule: unknown; alerts: unknown };
    expect(job.schedule).toEqual({ type: 'cron', expr: '*/10 * * * * *', timezone: 'America/New_York' });
    expect(job.nextFireAt).not.toBeNull();
    expect(job.version).toBe(1);
    expect(job.alerts).toEqual({ on: ['failed', 'timed_out', 'lost'], webhook: null, email: null });
    const got = await api.call('GET', `/api/jobs/${job.id}`, { token: operator.token });
    expect(got.body).toEqual(job);
    const listed = await api.call('GET', `/api/jobs?sceneId=${p.sceneId}&q=JOB`, { token: operator.token });
    expect((listed.body as { items: { id: string }[] }).items.map((j) => j.id)).toContain(job.id);
    const foreign = await api.call('GET', '/api/jobs', { token: viewer.token });
    expect((foreign.body as { items: unknown[] }).items).toEqual([]);
    expect((await api.call('GET', `/api/jobs/${job.id}`, { token: viewer.token })).status).toBe(403);
  });

  it('refuses a bad body naming every bad field, and saves nothing', async () => {
    const before = await p.prisma.job.count();
    const bad = await api.call('POST', '/api/jobs', {
      token: admin.token,
      body: body({
        schedule: { type: 'cron', expr: '* * *', timezone: 'Mars/Olympus' },
        timeoutMs: -1,
        retry: { attempts: 99 },
        alerts: { webhook: { url: 'ftp://x', secret: 'short' } },
        extra: true,
      }),
    });
    expect(bad.status).toBe(400);
    const paths = ((bad.body as ErrorBody).error.details?.issues ?? []).map((i) => i.path);
    for (const field of [
      'schedule.timezone',
      'timeoutMs',
      'retry.attempts',
      'alerts.webhook.url',
      'alerts.webhook.secret',
    ])
      expect(paths).toContain(field);
    const cron = await api.call('POST', '/api/jobs', {
      token: admin.token,
      body: body({ schedule: { type: 'cron', expr: '0 61 * * *', timezone: 'UTC' } }),
    });
    expect(cron.status).toBe(400);
    expect((cron.body as ErrorBody).error.code).toBe('CRON_INVALID');
    const noGroup = await api.call('POST', '/api/jobs', {
      token: admin.token,
      body: body({ group: 'nobody' }),
    });
    expect(noGroup.status).toBe(404);
    expect((noGroup.body as ErrorBody).error.code).toBe('GROUP_NOT_FOUND');
    const dup = body();
    expect((await api.call('POST', '/api/jobs', { token: admin.token, body: dup })).status).toBe(201);
    const again = await api.call('POST', '/api/jobs', { token: admin.token, body: dup });
    expect(again.status).toBe(409);
    expect(await p.prisma.job.count()).toBe(before + 1);
  });

  it('refuses a flow no online executor implements, unless allowed', async () => {
    await p.scheduler.putConfigDocuments([
      {
        file: 'extra.yml',
        text: 'kistype: func\nfname: Unwritten\nfmode: Calculate\nsource:\n  name: t\n  must: []\n---\nkistype: flow\nflow_name: unwritten\nflows:\n  - fname: Unwritten\n',
      },
    ]);
    const refused = await api.call('POST', '/api/jobs', {
      token: admin.token,
      body: body({ flowName: 'unwritten' }),
    });
    expect(refused.status).toBe(422);
    const error = (refused.body as ErrorBody).error;
    expect(error.code).toBe('FLOW_NOT_IMPLEMENTED');
    expect(error.details).toMatchObject({
      field: 'flowName',
      missingFunctions: ['Unwritten'],
      onlineExecutors: 1,
    });
    const missingFlow = await api.call('POST', '/api/jobs', {
      token: admin.token,
      body: body({ flowName: 'nope' }),
    });
    expect((missingFlow.body as ErrorBody).error.code).toBe('FLOW_NOT_IMPLEMENTED');
    const allowed = await api.call('POST', '/api/jobs?allowUnimplemented=true', {
      token: admin.token,
      body: body({ flowName: 'unwritten' }),
    });
    expect(allowed.status).toBe(201);
    // The Job DTO stays strict: the reason travels in a header.
    expect(allowed.headers.get('x-kisjobs-warning')).toMatch(/^FLOW_NOT_IMPLEMENTED: .*Unwritten/);
    expect(allowed.body).not.toHaveProperty('warnings');
    const implemented = await api.call('POST', '/api/jobs?allowUnimplemented=true', {
      token: admin.token,
      body: body(),
    });
    expect(implemented.status).toBe(201);
    expect(implemented.headers.get('x-kisjobs-warning')).toBeNull();
  });
});

describe('trigger and lifecycle', () => {
  it('triggers a run with a params override that an executor runs to success', async () => {
    const job = (
      await api.call('POST', '/api/jobs', {
        token: operator.token,
        body: body({ flowName: 'chatty', schedule: { type: 'manual' } }),
      })
    ).body as JobBody;
    const fired = await api.call('POST', `/api/jobs/${job.id}/trigger`, {
      token: operator.token,
      body: { params: { lines: '3' } },
    });
    expect(fired.status).toBe(202);
    const result = fired.body as { runIds: string[]; outcome: string };
    expect(result.outcome).toBe('dispatched');
    const run = await p.waitStatus(result.runIds[0] ?? '', 'succeeded');
    expect(run.params).toMatchObject({ lines: '3' });
    expect(run.triggerType).toBe('manual'); // a signed-in operator (a login session); an API token records 'api'
    expect(run.triggeredBy).toBe(operator.id);
    expect(await p.prisma.runLogLine.count({ where: { runId: run.id } })).toBe(4); // Source 1 + Log 3
    expect((await api.call('POST', `/api/jobs/${job.id}/trigger`, { token: viewer.token })).status).toBe(403);
  });

  it('answers 503 NO_EXECUTOR_AVAILABLE when the executor a job is pinned to is offline', async () => {
    const job = (
      await api.call('POST', '/api/jobs?allowUnimplemented=true', {
        token: operator.token,
        body: body({
          flowName: 'noop',
          schedule: { type: 'manual' },
          routing: { strategy: 'pinned', executorInstanceId: 'nobody-runs-this' },
        }),
      })
    ).body as JobBody;
    const fired = await api.call('POST', `/api/jobs/${job.id}/trigger`, { token: operator.token });
    expect(fired.status).toBe(503);
    expect(fired.body).toMatchObject({ error: { code: 'NO_EXECUTOR_AVAILABLE' } });
  });

  it('pauses, resumes, disables and enables, keeping next fire times consistent', async () => {
    const job = (await api.call('POST', '/api/jobs', { token: operator.token, body: body() }))
      .body as JobBody;
    const paused = (await api.call('POST', `/api/jobs/${job.id}/pause`, { token: operator.token }))
      .body as JobBody;
    expect(paused.paused).toBe(true);
    expect(paused.nextFireAt).toBe(job.nextFireAt);
    const resumed = (await api.call('POST', `/api/jobs/${job.id}/resume`, { token: operator.token }))
      .body as JobBody;
    expect(resumed.paused).toBe(false);
    const disabled = (await api.call('POST', `/api/jobs/${job.id}/disable`, { token: operator.token }))
      .body as JobBody;
    expect(disabled).toMatchObject({ enabled: false, nextFireAt: null });
    const enabled = (await api.call('POST', `/api/jobs/${job.id}/enable`, { token: operator.token }))
      .body as JobBody;
    expect(enabled.enabled).toBe(true);
    expect(enabled.nextFireAt).not.toBeNull();
    expect(enabled.version).toBeGreaterThan(job.version);
  });

  it('previews the next fire times of a job and of an unsaved schedule, DST-aware', async () => {
    const job = (
      await api.call('POST', '/api/jobs', {
        token: operator.token,
        body: body({ schedule: { type: 'cron', expr: '30 2 * * *', timezone: 'America/New_York' } }),
      })
    ).body as JobBody;
    const next = await api.call('GET', `/api/jobs/${job.id}/next-fires?count=3`, { token: operator.token });
    expect(next.status).toBe(200);
    const times = (next.body as { fireTimes: string[] }).fireTimes;
    expect(times).toHaveLength(3);
    expect(new Date(times[0] ?? '').getTime()).toBeGreaterThan(Date.now());
    const preview = await api.call('POST', '/api/schedule/preview', {
      token: viewer.token,
      body: {
        schedule: { type: 'cron', expr: '30 2 * * *', timezone: 'America/New_York' },
        after: '2027-03-13T12:00:00Z',
        count: 2,
      },
    });
    // 2027-03-14 02:30 does not exist in New York (spring forward): that day fires once, at 03:30 EDT.
    expect((preview.body as { fireTimes: string[] }).fireTimes).toEqual([
      '2027-03-14T07:30:00.000Z',
      '2027-03-15T06:30:00.000Z',
    ]);
    const bad = await api.call('POST', '/api/schedule/preview', {
      token: viewer.token,
      body: { schedule: { type: 'cron', expr: 'every day', timezone: 'UTC' } },
    });
    expect(bad.status).toBe(400);
    expect(
      (await api.call('GET', `/api/jobs/${job.id}/next-fires?count=1000`, { token: admin.token })).status,
    ).toBe(400);
  });
});

describe('update and delete', () => {
  it('updates a job over the version it read, and refuses a stale version', async () => {
    const job = (await api.call('POST', '/api/jobs', { token: operator.token, body: body() }))
      .body as JobBody;
    const updated = await api.call('PATCH', `/api/jobs/${job.id}?version=${job.version}`, {
      token: operator.token,
      body: { schedule: { type: 'fixed_rate', everyMs: 60_000 }, description: 'every minute' },
    });
    expect(updated.status).toBe(200);
    const after = updated.body as JobBody & { schedule: unknown; description: string };
    expect(after.schedule).toEqual({ type: 'fixed_rate', everyMs: 60_000 });
    expect(after.version).toBe(job.version + 1);
    expect(after.nextFireAt).not.toBeNull();
    const stale = await api.call('PATCH', `/api/jobs/${job.id}?version=${job.version}`, {
      token: operator.token,
      body: { description: 'lost update' },
    });
    expect(stale.status).toBe(409);
    expect((stale.body as ErrorBody).error.code).toBe('VERSION_CONFLICT');
    const invalid = await api.call('PATCH', `/api/jobs/${job.id}`, {
      token: operator.token,
      body: { timeoutMs: 'soon' },
    });
    expect(invalid.status).toBe(400);
    expect((await p.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).description).toBe(
      'every minute',
    );
  });

  it('keeps the webhook secret when a patch leaves alerts alone, and never returns it', async () => {
    const created = await api.call('POST', '/api/jobs', {
      token: operator.token,
      body: body({
        alerts: {
          on: ['failed'],
          webhook: { url: 'http://127.0.0.1:9/hook', secret: 'a-secret-of-16-chars' },
        },
      }),
    });
    expect(created.text).not.toContain('a-secret-of-16-chars');
    const job = created.body as JobBody;
    await api.call('PATCH', `/api/jobs/${job.id}`, {
      token: operator.token,
      body: { name: `renamed ${++n}` },
    });
    const row = await p.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(row.alertSettings).toMatchObject({ webhook: { secret: 'a-secret-of-16-chars' } });
  });

  it('deletes a job, keeps its runs, and refuses while another job names it as a child', async () => {
    const child = (
      await api.call('POST', '/api/jobs', {
        token: operator.token,
        body: body({ flowName: 'noop', schedule: { type: 'manual' } }),
      })
    ).body as JobBody;
    const parent = (
      await api.call('POST', '/api/jobs', { token: operator.token, body: body({ childJobIds: [child.id] }) })
    ).body as JobBody;
    const runIds = (await api.call('POST', `/api/jobs/${child.id}/trigger`, { token: operator.token }))
      .body as { runIds: string[] };
    await p.waitStatus(runIds.runIds[0] ?? '', 'succeeded');
    const refused = await api.call('DELETE', `/api/jobs/${child.id}`, { token: operator.token });
    expect(refused.status).toBe(409);
    expect((await api.call('DELETE', `/api/jobs/${parent.id}`, { token: operator.token })).status).toBe(204);
    expect((await api.call('DELETE', `/api/jobs/${child.id}`, { token: operator.token })).status).toBe(204);
    expect((await api.call('GET', `/api/jobs/${child.id}`, { token: operator.token })).status).toBe(404);
    const run = await api.call('GET', `/api/runs/${runIds.runIds[0] ?? ''}`, { token: admin.token });
    expect(run.status).toBe(200);
    expect((run.body as { jobId: string | null }).jobId).toBeNull();
  });
});
