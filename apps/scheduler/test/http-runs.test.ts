/**
 * The run routes over real HTTP with a real scheduler behind them, on runs written straight to Postgres (the
 * listing, reading and paging do not care who wrote a run; the end-to-end test over a real executor is
 * test/pipeline/http-runs.e2e.test.ts): filters and keyset paging, scene scoping of every route, validation
 * errors naming the field, log paging by seq, and terminate (a pending run ends at once; a finished one is
 * 409, and nothing changes).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { insertRunLogLines, insertRuns, type NewRun } from '@kisjobs/db';
import { newId } from '@kisjobs/protocol';
import { httpEnv, type CallResult, type HttpEnv, type TestUser } from './support/http-env.js';

interface RunBody {
  id: string;
  sceneId: string | null;
  status: string;
  triggerType: string;
  triggeredAt: string;
  functions: unknown[];
  error: { code: string | null; message: string } | null;
}
interface RunPage {
  items: RunBody[];
  nextCursor: string | null;
}
interface ErrorBody {
  error: { code: string; details?: { issues?: { path: string }[] } };
}

let env: HttpEnv;
let admin: TestUser;
let viewerA: TestUser;
let operatorA: TestUser;
let sceneA: string;
let sceneB: string;
let jobA: string;
const runsA: string[] = [];
const runsB: string[] = [];

const get = (path: string, user: TestUser): Promise<CallResult> =>
  env.call('GET', path, { token: user.token });
const issuePaths = (result: CallResult): string[] =>
  ((result.body as ErrorBody).error.details?.issues ?? []).map((issue) => issue.path);

async function job(sceneId: string): Promise<string> {
  const group = await env.prisma.executorGroup.upsert({
    where: { name: 'runs-tests' },
    create: { id: newId('grp'), name: 'runs-tests' },
    update: {},
  });
  const created = await env.prisma.job.create({
    data: {
      id: newId('job'),
      sceneId,
      executorGroupId: group.id,
      name: `job-${sceneId}`,
      flowName: 'etl',
      scheduleType: 'manual',
    },
  });
  return created.id;
}

async function seedRuns(jobId: string, sceneId: string, count: number, into: string[]): Promise<void> {
  const base = Date.UTC(2026, 0, 1);
  const runs: NewRun[] = Array.from({ length: count }, (_, i) => ({
    id: newId('run', new Date(base + i * 1000)),
    jobId,
    sceneId,
    flowName: 'etl',
    triggerType: i % 3 === 0 ? 'manual' : 'api',
    scheduledAt: new Date(base + i * 1000),
    // Two runs share each instant: paging must break ties by id.
    triggeredAt: new Date(base + Math.floor(i / 2) * 1000),
  }));
  await insertRuns(env.prisma, runs);
  into.push(...runs.map((r) => r.id));
}

beforeAll(async () => {
  // The seeded runs are pending and never dispatched: the dispatcher's sweep would pick them up (that is its
  // job: held runs of a group with no executor end failed), so it is kept out of the way of these tests of the
  // HTTP layer, its first sweep included (by default 1 s after start, while these tests run).
  env = await httpEnv('http-runs', {
    scheduler: { dispatch: { sweepIntervalMs: 3_600_000, firstSweepAfterMs: 3_600_000 } },
  });
  sceneA = await env.scene('runs-a');
  sceneB = await env.scene('runs-b');
  admin = await env.user('admin');
  viewerA = await env.user('viewer', [sceneA]);
  operatorA = await env.user('operator', [sceneA]);
  jobA = await job(sceneA);
  await seedRuns(jobA, sceneA, 7, runsA);
  await seedRuns(await job(sceneB), sceneB, 4, runsB);
  // A finished, failed run with a summary in scene A.
  await env.prisma.run.update({
    where: { id: runsA[0] ?? '' },
    data: {
      status: 'failed',
      startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 1)),
      finishedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 2)),
      errorMessage: 'boom',
      errorCode: 'FUNC_ERROR',
      summary: [
        { step: 0, funcName: 'Load', mode: 'Load', rowsIn: 0, rowsOut: 3, durationMs: 12, attempts: 1 },
      ],
    },
  });
});
afterAll(async () => {
  await env?.close();
});

async function allPages(path: string, user: TestUser): Promise<RunBody[]> {
  const out: RunBody[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const result = await get(`${path}${cursor === null ? '' : `${sep}cursor=${cursor}`}`, user);
    expect(result.status).toBe(200);
    const page = result.body as RunPage;
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return out;
}

describe('GET /api/runs', () => {
  test('pages newest first with no gap and no duplicate, ties broken by id', async () => {
    const items = await allPages(`/api/runs?jobId=${jobA}&limit=2`, admin);
    expect(items.map((r) => r.id).sort()).toEqual([...runsA].sort());
    const keys = items.map((r) => `${r.triggeredAt}|${r.id}`);
    expect(keys).toEqual([...keys].sort().reverse());
  });

  test('filters by status, trigger type and time window', async () => {
    const failed = (await get(`/api/runs?status=failed`, admin)).body as RunPage;
    expect(failed.items.map((r) => r.id)).toEqual([runsA[0]]);
    const manual = await allPages(`/api/runs?jobId=${jobA}&triggerType=manual`, admin);
    expect(manual.map((r) => r.id).sort()).toEqual(runsA.filter((_, i) => i % 3 === 0).sort());
    const window = await allPages(
      `/api/runs?sceneId=${sceneA}&from=2026-01-01T00:00:01.000Z&to=2026-01-01T00:00:02.000Z`,
      admin,
    );
    expect(window.map((r) => r.id).sort()).toEqual([runsA[2] ?? '', runsA[3] ?? ''].sort());
  });

  test('lists only the caller’s scenes; naming another scene is 403', async () => {
    const mine = await allPages('/api/runs', viewerA);
    expect(mine.map((r) => r.id).sort()).toEqual([...runsA].sort());
    expect(mine.every((r) => r.sceneId === sceneA)).toBe(true);
    const all = await allPages('/api/runs', admin);
    expect(all).toHaveLength(runsA.length + runsB.length);
    const other = await get(`/api/runs?sceneId=${sceneB}`, viewerA);
    expect(other.status).toBe(403);
    expect((other.body as ErrorBody).error.code).toBe('SCENE_ACCESS_DENIED');
  });

  test('bad filters are 400 naming the field', async () => {
    const cases: [string, string][] = [
      ['status=done', 'query.status'],
      ['triggerType=cron,nope', 'query.triggerType'],
      ['from=yesterday', 'query.from'],
      ['limit=0', 'query.limit'],
      ['jobId=not-an-id', 'query.jobId'],
      ['cursor=garbage', 'query.cursor'],
    ];
    const seen: Record<string, unknown> = {};
    const expected: Record<string, unknown> = {};
    for (const [query, field] of cases) {
      const result = await get(`/api/runs?${query}`, admin);
      seen[query] = {
        status: result.status,
        code: (result.body as ErrorBody).error.code,
        names: issuePaths(result).some((path) => path.startsWith(field)),
      };
      expected[query] = { status: 400, code: 'VALIDATION_FAILED', names: true };
    }
    expect(seen).toEqual(expected);
    const unknown = await get('/api/runs?colour=red', admin);
    expect(unknown.status).toBe(400);
  });
});

describe('GET /api/runs/:id', () => {
  test('one run with its per-function summary and error', async () => {
    const result = await get(`/api/runs/${runsA[0] ?? ''}`, viewerA);
    expect(result.status).toBe(200);
    const run = result.body as RunBody;
    expect(run.status).toBe('failed');
    expect(run.functions).toEqual([
      expect.objectContaining({ funcName: 'Load', rowsOut: 3, durationMs: 12 }),
    ]);
    expect(run.error).toEqual({ code: 'FUNC_ERROR', message: 'boom' });
  });

  test('outside the scenes is 403, unknown is 404, a malformed id is 400', async () => {
    expect((await get(`/api/runs/${runsB[0] ?? ''}`, viewerA)).status).toBe(403);
    expect((await get(`/api/runs/${newId('run')}`, admin)).status).toBe(404);
    const bad = await get('/api/runs/nope', admin);
    expect(bad.status).toBe(400);
    expect(issuePaths(bad).join(' ')).toContain('id');
  });
});

describe('GET /api/runs/:id/logs', () => {
  test('pages lines by seq', async () => {
    const runId = runsA[1] ?? '';
    await insertRunLogLines(
      env.prisma,
      Array.from({ length: 5 }, (_, seq) => ({
        runId,
        seq,
        at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)),
        level: 'info' as const,
        funcName: 'Load',
        message: `line ${seq}`,
      })),
    );
    const first = await get(`/api/runs/${runId}/logs?limit=3`, viewerA);
    expect(first.status).toBe(200);
    const page1 = first.body as { items: { seq: number }[]; nextAfterSeq: number; runFinished: boolean };
    expect(page1.items.map((l) => l.seq)).toEqual([0, 1, 2]);
    expect(page1.runFinished).toBe(false);
    const second = await get(`/api/runs/${runId}/logs?afterSeq=${page1.nextAfterSeq}&limit=3`, viewerA);
    const page2 = second.body as { items: { seq: number }[]; nextAfterSeq: number };
    expect(page2.items.map((l) => l.seq)).toEqual([3, 4]);
    const third = await get(`/api/runs/${runId}/logs?afterSeq=${page2.nextAfterSeq}`, viewerA);
    expect(third.body).toMatchObject({ items: [], nextAfterSeq: 4 });
    const bad = await get(`/api/runs/${runId}/logs?limit=5000`, viewerA);
    expect(bad.status).toBe(400);
    expect(issuePaths(bad).join(' ')).toContain('limit');
  });
});

describe('POST /api/runs/:id/terminate', () => {
  test('a pending run ends terminated at once; again is 409 and changes nothing', async () => {
    const runId = runsA[5] ?? '';
    const denied = await env.call('POST', `/api/runs/${runId}/terminate`, { token: viewerA.token });
    expect(denied.status).toBe(403);
    const result = await env.call('POST', `/api/runs/${runId}/terminate`, {
      token: operatorA.token,
      body: { reason: 'not needed' },
    });
    expect(result.status).toBe(202);
    expect(result.body).toEqual({ runId, outcome: 'terminated' });
    const row = await env.prisma.run.findUniqueOrThrow({ where: { id: runId } });
    expect(row.status).toBe('terminated');
    const again = await env.call('POST', `/api/runs/${runId}/terminate`, { token: operatorA.token });
    expect(again.status).toBe(409);
    expect((again.body as ErrorBody).error.code).toBe('RUN_ALREADY_FINISHED');
    const after = await env.prisma.run.findUniqueOrThrow({ where: { id: runId } });
    expect(after.updatedAt).toEqual(row.updatedAt);
  });

  test('outside the operator’s scenes is 403 and the run stays pending; a bad body is 400', async () => {
    const runId = runsB[1] ?? '';
    const result = await env.call('POST', `/api/runs/${runId}/terminate`, { token: operatorA.token });
    expect(result.status).toBe(403);
    expect((await env.prisma.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe('pending');
    const bad = await env.call('POST', `/api/runs/${runId}/terminate`, {
      token: admin.token,
      body: { reason: '' },
    });
    expect(bad.status).toBe(400);
    expect(issuePaths(bad).join(' ')).toContain('reason');
    expect((await env.prisma.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe('pending');
  });
});
