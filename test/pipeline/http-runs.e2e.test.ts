/**
 * The run routes end to end over real HTTP: runs produced by a real executor child process are listed,
 * read with their per-function summary, their logs paged by seq and tailed live over SSE (resuming after a
 * dropped connection with Last-Event-ID: every line once, in order), terminated (a CPU-bound run ends
 * `terminated`; a second terminate is a 409), and every listing stays inside the caller's scenes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@kisjobs/protocol';
import { serveApi, type ApiUser, type ServedApi } from '../support/http-api.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

let p: Pipeline;
let api: ServedApi;
let admin: ApiUser;
let outsider: ApiUser;
let finishedRunId: string;

beforeAll(async () => {
  p = await startPipeline('e2e-http-runs');
  await p.spawnExecutor({ instanceId: 'http-runs-a', concurrency: 4 });
  api = await serveApi(p);
  admin = await api.login('admin');
  const otherScene = await p.scheduler.createScene({ name: 'other-scene' });
  outsider = await api.login('operator', [otherScene.id]);
  const jobId = await p.job({ flowName: 'chatty' });
  const [runId] = await p.trigger(jobId);
  finishedRunId = runId ?? '';
  await p.waitStatus(finishedRunId, 'succeeded');
});
afterAll(async () => {
  await api?.close();
  await p?.close();
});

describe('listing and reading runs', () => {
  it('lists a job’s runs newest first, filters by status, and pages with the cursor', async () => {
    const jobId = await p.job({ flowName: 'noop' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(...(await p.trigger(jobId)));
    await Promise.all(ids.map((id) => p.waitStatus(id, 'succeeded')));
    const first = await api.call('GET', `/api/runs?jobId=${jobId}&limit=2`, { token: admin.token });
    expect(first.status).toBe(200);
    const page1 = first.body as { items: { id: string; status: string }[]; nextCursor: string | null };
    expect(page1.items).toHaveLength(2);
    const seen = [...page1.items.map((r) => r.id)];
    let cursor = page1.nextCursor;
    while (cursor !== null) {
      const next = await api.call('GET', `/api/runs?jobId=${jobId}&limit=2&cursor=${cursor}`, {
        token: admin.token,
      });
      const page = next.body as { items: { id: string }[]; nextCursor: string | null };
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
    }
    expect([...seen].sort()).toEqual([...ids].sort());
    expect(new Set(seen).size).toBe(5);
    const failed = await api.call('GET', `/api/runs?jobId=${jobId}&status=failed,lost`, {
      token: admin.token,
    });
    expect((failed.body as { items: unknown[] }).items).toEqual([]);
    const ok = await api.call('GET', `/api/runs?jobId=${jobId}&status=succeeded&triggerType=manual`, {
      token: admin.token,
    });
    expect((ok.body as { items: unknown[] }).items).toHaveLength(5);
  });

  it('one run carries its per-function summary and its error-free outcome', async () => {
    const got = await api.call('GET', `/api/runs/${finishedRunId}`, { token: admin.token });
    expect(got.status).toBe(200);
    const run = got.body as {
      status: string;
      functions: { funcName: string; rowsIn: number; rowsOut: number }[];
      executorInstanceId: string;
      error: unknown;
    };
    expect(run.status).toBe('succeeded');
    expect(run.functions.map((f) => f.funcName)).toEqual(['Source', 'Log']);
    expect(run.functions[0]?.rowsOut).toBe(3);
    expect(run.executorInstanceId).toBe('http-runs-a');
    expect(run.error).toBeNull();
  });

  it('refuses bad filters naming the field, unknown runs with 404, and foreign cursors with 400', async () => {
    const bad = await api.call('GET', '/api/runs?status=bogus&from=yesterday&limit=0', {
      token: admin.token,
    });
    expect(bad.status).toBe(400);
    const fields = (bad.body as { error: { details: { issues: { path: string }[] } } }).error.details.issues
      .map((i) => i.path)
      .sort();
    expect(fields).toEqual(['query.from', 'query.limit', 'query.status[0]']);
    const missing = await api.call('GET', `/api/runs/${newId('run')}`, { token: admin.token });
    expect(missing.status).toBe(404);
    expect((missing.body as { error: { code: string } }).error.code).toBe('RUN_NOT_FOUND');
    const notAnId = await api.call('GET', '/api/runs/nope', { token: admin.token });
    expect(notAnId.status).toBe(400);
    const cursor = await api.call('GET', '/api/runs?cursor=bm90LWEtY3Vyc29y', { token: admin.token });
    expect(cursor.status).toBe(400);
  });

  it('keeps runs inside the caller’s scenes', async () => {
    const list = await api.call('GET', '/api/runs', { token: outsider.token });
    expect(list.status).toBe(200);
    expect((list.body as { items: unknown[] }).items).toEqual([]);
    const one = await api.call('GET', `/api/runs/${finishedRunId}`, { token: outsider.token });
    expect(one.status).toBe(403);
    const scoped = await api.call('GET', `/api/runs?sceneId=${p.sceneId}`, { token: outsider.token });
    expect(scoped.status).toBe(403);
    const logs = await api.call('GET', `/api/runs/${finishedRunId}/logs`, { token: outsider.token });
    expect(logs.status).toBe(403);
  });
});

describe('logs', () => {
  it('pages a run’s lines by seq', async () => {
    const all: number[] = [];
    let after = -1;
    for (;;) {
      const page = await api.call('GET', `/api/runs/${finishedRunId}/logs?afterSeq=${after}&limit=7`, {
        token: admin.token,
      });
      expect(page.status).toBe(200);
      const body = page.body as {
        items: { seq: number; message: string }[];
        nextAfterSeq: number;
        runFinished: boolean;
      };
      expect(body.runFinished).toBe(true);
      if (body.items.length === 0) break;
      all.push(...body.items.map((l) => l.seq));
      after = body.nextAfterSeq;
    }
    // Source logs one line, Log 25.
    expect(all).toHaveLength(26);
    expect(all).toEqual([...all].sort((a, b) => a - b));
    expect(new Set(all).size).toBe(26);
  });

  it('tails a live run over SSE and resumes after Last-Event-ID with no gap and no duplicate', async () => {
    const jobId = await p.job({ flowName: 'slowlog', params: { ms: '2500' } });
    const [runId] = await p.trigger(jobId);
    const path = `/api/runs/${runId ?? ''}/logs/stream`;
    // First connection: read until the first Log step's five lines are in, then drop it.
    const before = await api.events(path, {
      token: admin.token,
      stop: (_e, all) => all.filter((e) => e.event === 'log').length >= 4,
    });
    const lastId = before.at(-1)?.id ?? '';
    const mid = await p.run(runId ?? '');
    expect(mid.status).toBe('running'); // the reconnect happens while the run still writes lines
    const after = await api.events(path, { token: admin.token, headers: { 'last-event-id': lastId } });
    const end = after.at(-1);
    expect(end?.event).toBe('end');
    expect(end?.data).toMatchObject({ status: 'succeeded' });
    const seqs = [...before, ...after].filter((e) => e.event === 'log').map((e) => Number(e.id));
    // Source 1 line + Log 5 + Sleep 1 + Log 5.
    expect(seqs).toHaveLength(12);
    expect(new Set(seqs).size).toBe(12);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const paged = await api.call('GET', `/api/runs/${runId ?? ''}/logs`, { token: admin.token });
    expect(seqs).toEqual((paged.body as { items: { seq: number }[] }).items.map((l) => l.seq));
    const bad = await api.call('GET', path, { token: admin.token, headers: { 'last-event-id': 'x' } });
    expect(bad.status).toBe(400);
  });
});

describe('terminate', () => {
  it('ends a CPU-bound run terminated within 2 s, then answers 409 for a finished run', async () => {
    const jobId = await p.job({ flowName: 'spin' });
    const [runId] = await p.trigger(jobId);
    await p.waitStatus(runId ?? '', 'running');
    const started = Date.now();
    const res = await api.call('POST', `/api/runs/${runId ?? ''}/terminate`, {
      token: admin.token,
      body: { reason: 'stuck in a loop' },
    });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ runId, outcome: 'requested' });
    const run = await p.waitStatus(runId ?? '', 'terminated', 5_000);
    expect(run.finishedAt!.getTime() - started).toBeLessThan(2_000);
    const again = await api.call('POST', `/api/runs/${runId ?? ''}/terminate`, { token: admin.token });
    expect(again.status).toBe(409);
    expect((again.body as { error: { code: string } }).error.code).toBe('RUN_ALREADY_FINISHED');
    const foreign = await api.call('POST', `/api/runs/${finishedRunId}/terminate`, { token: outsider.token });
    expect(foreign.status).toBe(403);
    const audit = await api.call('GET', `/api/audit?action=runs.terminate`, { token: admin.token });
    expect((audit.body as { items: { target: { id: string } }[] }).items.map((a) => a.target.id)).toContain(
      runId,
    );
  });
});

describe('metrics', () => {
  it('exports the scheduler’s own metrics next to the HTTP ones on /metrics', async () => {
    const res = await api.call('GET', '/metrics');
    expect(res.status).toBe(200);
    const value = (series: string): number => {
      const line = res.text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
    };
    expect(value('kisjobs_executors{group="etl",state="online"}')).toBe(1);
    expect(value('kisjobs_runs_finalized_total')).toBeGreaterThanOrEqual(8);
    expect(value('kisjobs_ingest_log_lines_total')).toBeGreaterThanOrEqual(26);
    expect(value('kisjobs_active_runs{status="running"}')).toBe(0);
    expect(value('kisjobs_ingest_consecutive_failures')).toBe(0);
    expect(res.text).toContain('kisjobs_http_requests_total');
  });
});
