/**
 * The cheap paths of `GET /api/runs`: identical reads share one execution that started after they arrived
 * (shared-read.ts),
 * a shared page is serialised once and sent exactly as `res.json` would send it, and `runDto` keeps its
 * answers while skipping work for runs without a summary.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { insertRuns, type Run as RunRow } from '@kisjobs/db';
import { newId } from '@kisjobs/protocol';
import { sharedRead } from '../src/http/shared-read.js';
import { runDto } from '../src/http/routes/run-dto.js';
import { httpEnv, type HttpEnv } from './support/http-env.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('sharedRead', () => {
  test('identical calls in one turn share one execution and one result; other keys run on their own', async () => {
    const runs: string[] = [];
    const read = sharedRead(
      (key: string) => {
        runs.push(key);
        return Promise.resolve({ key });
      },
      (key) => key,
    );
    const [a1, a2, b, a3] = await Promise.all([read('a'), read('a'), read('b'), read('a')]);
    expect(runs.sort()).toEqual(['a', 'b']);
    expect(a1).toBe(a2);
    expect(a1).toBe(a3);
    expect(b).toEqual({ key: 'b' });
  });

  test('a call never joins a started execution: it waits for it, and the calls made meanwhile share the next', async () => {
    const started: string[] = [];
    const release = new Map<number, () => void>();
    const read = sharedRead(
      (key: string) => {
        const n = started.push(key);
        return new Promise<string>((resolve) => release.set(n, () => resolve(`${key}#${n}`)));
      },
      (key) => key,
    );
    const first = read('a');
    expect(started).toEqual([]);
    await nextTurn();
    expect(started).toEqual(['a']);
    // 'a' is running: these may follow a write, so they must not get its answer, and they wait for it to end.
    const second = read('a');
    await nextTurn();
    const third = read('a');
    const other = read('b');
    await nextTurn();
    await nextTurn();
    expect(started).toEqual(['a', 'b']);
    release.get(2)?.();
    expect(await other).toBe('b#2');
    expect(started).toEqual(['a', 'b']);
    release.get(1)?.();
    expect(await first).toBe('a#1');
    await nextTurn();
    expect(started).toEqual(['a', 'b', 'a']);
    release.get(3)?.();
    expect(await second).toBe('a#3');
    expect(await third).toBe('a#3');
    // Nothing is left running or waiting: the next call starts at the end of its own turn.
    const fourth = read('a');
    await nextTurn();
    expect(started).toEqual(['a', 'b', 'a', 'a']);
    release.get(4)?.();
    expect(await fourth).toBe('a#4');
  });

  test('a failure fails every call that shared it, including one thrown before any promise', async () => {
    const boom = new Error('boom');
    const rejecting = sharedRead(
      () => Promise.reject(boom),
      () => 'k',
    );
    const results = await Promise.allSettled([rejecting(1), rejecting(2)]);
    expect(results).toEqual([
      { status: 'rejected', reason: boom },
      { status: 'rejected', reason: boom },
    ]);
    const throwing = sharedRead(
      (): Promise<never> => {
        throw boom;
      },
      () => 'k',
    );
    await expect(throwing(1)).rejects.toBe(boom);
  });

  test('the execution waiting behind a failed one still runs, with its own answer', async () => {
    let calls = 0;
    let fail: (error: Error) => void = () => undefined;
    const read = sharedRead(
      (n: number) => {
        calls++;
        return calls === 1 ? new Promise<number>((_, reject) => (fail = reject)) : Promise.resolve(n);
      },
      () => 'k',
    );
    const first = read(1);
    await nextTurn();
    const second = read(2);
    const third = read(3);
    fail(new Error('first failed'));
    await expect(first).rejects.toThrow('first failed');
    expect(await second).toBe(2);
    expect(await third).toBe(2);
    expect(calls).toBe(2);
  });
});

describe('runDto', () => {
  const row = (summary: unknown): RunRow =>
    ({
      id: 'run_1',
      jobId: null,
      sceneId: null,
      flowName: 'f',
      status: 'succeeded',
      skipReason: null,
      triggerType: 'cron',
      triggeredBy: null,
      scheduledAt: new Date(0),
      triggeredAt: new Date(0),
      startedAt: null,
      finishedAt: null,
      attempt: 1,
      maxAttempts: 1,
      parentRunId: null,
      executorInstanceId: null,
      executorGroup: null,
      shardIndex: 0,
      shardTotal: 1,
      params: {},
      summary,
      errorMessage: null,
      errorCode: null,
      durationMs: null,
      dispatchedAt: null,
      targetQueue: null,
      createdAt: new Date(0),
      updatedAt: new Date(0),
    }) as RunRow;
  const fn = { step: 0, funcName: 'Load', mode: 'Load', rowsIn: 0, rowsOut: 3, durationMs: 12, attempts: 1 };

  test('functions: [] without a summary, or with one that is not a list of function summaries', () => {
    expect(runDto(row(null)).functions).toEqual([]);
    expect(runDto(row([])).functions).toEqual([]);
    expect(runDto(row({ not: 'a list' })).functions).toEqual([]);
    expect(runDto(row([{ funcName: 1 }])).functions).toEqual([]);
    expect(runDto(row([fn])).functions).toEqual([fn]);
  });
});

describe('GET /api/runs over HTTP', () => {
  let env: HttpEnv;
  let sceneA: string;
  let sceneB: string;
  beforeAll(async () => {
    env = await httpEnv('runs-list-sharing');
    sceneA = await env.scene('sharing-a');
    sceneB = await env.scene('sharing-b');
    const base = Date.UTC(2027, 0, 1);
    await insertRuns(
      env.prisma,
      Array.from({ length: 6 }, (_, i) => ({
        id: newId('run', new Date(base + i * 1_000)),
        jobId: null,
        sceneId: i % 2 === 0 ? sceneA : sceneB,
        flowName: i === 0 ? 'flow<script>&"x"</script>' : 'flow',
        triggerType: 'cron' as const,
        triggeredBy: i === 0 ? '<b>&' : null,
        scheduledAt: new Date(base + i * 1_000),
        triggeredAt: new Date(base + i * 1_000),
      })),
    );
  });
  afterAll(async () => {
    await env?.close();
  });

  test('concurrent identical listings get the same answer; each caller still sees only its scenes', async () => {
    const admin = await env.user('admin');
    const viewerA = await env.user('viewer', [sceneA]);
    const viewerB = await env.user('viewer', [sceneB]);
    const calls = [admin, viewerA, viewerB, admin, viewerA, viewerB].map((user) =>
      env.call('GET', '/api/runs?limit=4', { token: user.token }),
    );
    const [all1, a1, b1, all2, a2, b2] = await Promise.all(calls);
    for (const result of [all1, a1, b1, all2, a2, b2]) expect(result?.status).toBe(200);
    expect(all2?.text).toBe(all1?.text);
    expect(a2?.text).toBe(a1?.text);
    expect(b2?.text).toBe(b1?.text);
    const scenes = (text: string | undefined) =>
      (JSON.parse(text ?? '{}') as { items: { sceneId: string }[] }).items.map((r) => r.sceneId);
    expect(scenes(all1?.text)).toHaveLength(4);
    expect(new Set(scenes(a1?.text))).toEqual(new Set([sceneA]));
    expect(new Set(scenes(b1?.text))).toEqual(new Set([sceneB]));
  });

  test('the shared body is sent as res.json sends JSON: same type, < > & escaped, same value', async () => {
    const admin = await env.user('admin');
    const listing = await env.call('GET', `/api/runs?sceneId=${sceneA}`, { token: admin.token });
    const me = await env.call('GET', '/api/auth/me', { token: admin.token });
    expect(listing.status).toBe(200);
    expect(listing.headers.get('content-type')).toBe(me.headers.get('content-type'));
    expect(listing.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(Number(listing.headers.get('content-length'))).toBe(Buffer.byteLength(listing.text));
    expect(listing.text).not.toMatch(/[<>&]/);
    expect(listing.text).toContain('flow\\u003cscript\\u003e\\u0026\\"x\\"\\u003c/script\\u003e');
    const body = listing.body as { items: { flowName: string; triggeredBy: string | null }[] };
    expect(body.items.map((r) => r.flowName)).toContain('flow<script>&"x"</script>');
    expect(body.items.map((r) => r.triggeredBy)).toContain('<b>&');
    const escaped = JSON.stringify(listing.body).replace(
      /[<>&]/g,
      (c) => `\\u00${c.charCodeAt(0).toString(16)}`,
    );
    expect(listing.text).toBe(escaped);
  });

  test('HEAD of the listing answers the headers without a body', async () => {
    const admin = await env.user('admin');
    const response = await fetch(`${env.url}/api/runs?limit=2`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${admin.token}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.text()).toBe('');
  });
});
