/**
 * The report routes on a real database: per-day counts by status in a time zone with the success ratio
 * (skipped runs do not count against it), the slowest and most-failing jobs, scene scoping, and validation.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { insertRuns, type NewRun } from '@kisjobs/db';
import { newId, type RunStatus } from '@kisjobs/protocol';
import { httpEnv, type HttpEnv, type TestUser } from './support/http-env.js';

let env: HttpEnv;
let admin: TestUser;
let viewerA: TestUser;
let sceneA: string;
let sceneB: string;
let fast: string;
let slow: string;
let flaky: string;

async function job(sceneId: string, name: string): Promise<string> {
  const group = await env.prisma.executorGroup.upsert({
    where: { name: 'reports' },
    create: { id: newId('grp'), name: 'reports' },
    update: {},
  });
  const row = await env.prisma.job.create({
    data: {
      id: newId('job'),
      sceneId,
      executorGroupId: group.id,
      name,
      flowName: 'f',
      scheduleType: 'manual',
    },
  });
  return row.id;
}

/** Runs of a job at `at`, each with a status and duration, written as the pipeline would leave them. */
async function runs(
  jobId: string,
  sceneId: string,
  at: string,
  outcomes: [RunStatus, number][],
): Promise<void> {
  const when = new Date(at);
  const rows: NewRun[] = outcomes.map(() => ({
    id: newId('run', when),
    jobId,
    sceneId,
    flowName: 'f',
    triggerType: 'api',
    scheduledAt: when,
    triggeredAt: when,
  }));
  await insertRuns(env.prisma, rows);
  await Promise.all(
    rows.map((row, i) =>
      env.prisma.run.update({
        where: { id: row.id },
        data: {
          status: outcomes[i]?.[0] ?? 'succeeded',
          durationMs: outcomes[i]?.[1] ?? 0,
          finishedAt: when,
        },
      }),
    ),
  );
}

beforeAll(async () => {
  env = await httpEnv('http-reports');
  sceneA = await env.scene('reports-a');
  sceneB = await env.scene('reports-b');
  admin = await env.user('admin');
  viewerA = await env.user('viewer', [sceneA]);
  fast = await job(sceneA, 'fast');
  slow = await job(sceneA, 'slow');
  flaky = await job(sceneB, 'flaky');
  // 2027-01-01T23:30Z is still 2027-01-01 in UTC but already 2027-01-02 in Shanghai (UTC+8).
  await runs(fast, sceneA, '2027-01-01T10:00:00Z', [
    ['succeeded', 10],
    ['succeeded', 12],
    ['skipped', 0],
  ]);
  await runs(slow, sceneA, '2027-01-01T23:30:00Z', [
    ['succeeded', 5_000],
    ['timed_out', 9_000],
  ]);
  await runs(flaky, sceneB, '2027-01-02T08:00:00Z', [
    ['failed', 100],
    ['failed', 120],
    ['lost', 0],
    ['succeeded', 90],
  ]);
});
afterAll(async () => env?.close());

const range = 'from=2027-01-01T00:00:00Z&to=2027-01-03T00:00:00Z';

describe('daily report', () => {
  test('counts runs per day and status with the success ratio, for every scene an admin sees', async () => {
    const res = await env.call('GET', `/api/reports/daily?${range}`, { token: admin.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      timezone: 'UTC',
      days: [
        {
          day: '2027-01-01',
          counts: { succeeded: 3, skipped: 1, timed_out: 1 },
          total: 5,
          successRatio: 0.75,
        },
        { day: '2027-01-02', counts: { failed: 2, lost: 1, succeeded: 1 }, total: 4, successRatio: 0.25 },
      ],
      totals: {
        counts: { succeeded: 4, skipped: 1, timed_out: 1, failed: 2, lost: 1 },
        total: 9,
        successRatio: 0.5,
      },
    });
  });

  test('counts days in the time zone asked for, and keeps a viewer inside their scenes', async () => {
    const res = await env.call('GET', `/api/reports/daily?${range}&timezone=Asia/Shanghai`, {
      token: viewerA.token,
    });
    const body = res.body as { days: { day: string; total: number }[] };
    expect(body.days).toEqual([
      expect.objectContaining({ day: '2027-01-01', total: 3 }),
      expect.objectContaining({ day: '2027-01-02', total: 2 }),
    ]);
    expect(
      (await env.call('GET', `/api/reports/daily?${range}&sceneId=${sceneB}`, { token: viewerA.token }))
        .status,
    ).toBe(403);
    expect(
      (await env.call('GET', `/api/reports/daily?${range}&jobId=${flaky}`, { token: viewerA.token })).status,
    ).toBe(403);
    const oneJob = await env.call('GET', `/api/reports/daily?${range}&jobId=${slow}`, {
      token: viewerA.token,
    });
    expect((oneJob.body as { totals: { total: number } }).totals.total).toBe(2);
  });

  test('refuses a bad range or time zone naming the field', async () => {
    const backwards = await env.call(
      'GET',
      '/api/reports/daily?from=2027-01-03T00:00:00Z&to=2027-01-01T00:00:00Z',
      {
        token: admin.token,
      },
    );
    expect(backwards.status).toBe(400);
    const tooLong = await env.call(
      'GET',
      '/api/reports/daily?from=2020-01-01T00:00:00Z&to=2027-01-01T00:00:00Z',
      {
        token: admin.token,
      },
    );
    expect(tooLong.status).toBe(400);
    const zone = await env.call('GET', '/api/reports/daily?timezone=Mars/Base', { token: admin.token });
    expect(zone.status).toBe(400);
    expect(zone.text).toContain('query.timezone');
  });
});

describe('jobs report', () => {
  test('ranks the slowest jobs by p95 and the most-failing by failed, timed-out or lost runs', async () => {
    const res = await env.call('GET', `/api/reports/jobs?${range}`, { token: admin.token });
    expect(res.status).toBe(200);
    const body = res.body as {
      slowest: { jobId: string; maxMs: number; runs: number }[];
      mostFailing: { jobId: string; failures: number; finished: number; failureRatio: number }[];
    };
    expect(body.slowest.map((j) => j.jobId)).toEqual([slow, flaky, fast]);
    expect(body.slowest[0]).toMatchObject({ maxMs: 9_000, runs: 2 });
    expect(body.mostFailing).toEqual([
      expect.objectContaining({ jobId: flaky, failures: 3, finished: 4, failureRatio: 0.75 }),
      expect.objectContaining({ jobId: slow, failures: 1, finished: 2, failureRatio: 0.5 }),
    ]);
    const scoped = await env.call('GET', `/api/reports/jobs?${range}`, { token: viewerA.token });
    const ids = (scoped.body as { mostFailing: { jobId: string }[] }).mostFailing.map((j) => j.jobId);
    expect(ids).toEqual([slow]);
  });
});
