/**
 * `GET /api/runs/:id/logs/stream` over real HTTP: a live tail of a running run (lines written while the
 * client listens arrive as `log` events with `id: <seq>`), an `end` event with the final status once the run
 * has ended and its lines are all sent, and resume after a dropped connection with Last-Event-ID (or
 * `?afterSeq=`): every line exactly once, in order. Scene checks and the Last-Event-ID validation too.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { insertRunLogLines, insertRuns } from '@kisjobs/db';
import { newId } from '@kisjobs/protocol';
import { httpEnv, type HttpEnv, type TestUser } from './support/http-env.js';

interface SseEvent {
  id: string | undefined;
  event: string;
  data: unknown;
}

let env: HttpEnv;
let viewer: TestUser;
let outsider: TestUser;
let sceneId: string;
let jobId: string;

beforeAll(async () => {
  env = await httpEnv('http-run-logs-stream', { scheduler: true });
  sceneId = await env.scene('tail');
  const otherScene = await env.scene('tail-other');
  viewer = await env.user('viewer', [sceneId]);
  outsider = await env.user('viewer', [otherScene]);
  const group = await env.prisma.executorGroup.create({ data: { id: newId('grp'), name: 'tail' } });
  const job = await env.prisma.job.create({
    data: {
      id: newId('job'),
      sceneId,
      executorGroupId: group.id,
      name: 'tail',
      flowName: 'etl',
      scheduleType: 'manual',
    },
  });
  jobId = job.id;
});
afterAll(async () => {
  await env?.close();
});

async function runningRun(): Promise<string> {
  const id = newId('run');
  await insertRuns(env.prisma, [
    { id, jobId, sceneId, flowName: 'etl', triggerType: 'manual', scheduledAt: new Date() },
  ]);
  await env.prisma.run.update({ where: { id }, data: { status: 'running', startedAt: new Date() } });
  return id;
}

async function writeLines(runId: string, from: number, to: number): Promise<void> {
  const lines = [];
  for (let seq = from; seq <= to; seq++) {
    lines.push({ runId, seq, at: new Date(), level: 'info' as const, funcName: 'F', message: `line ${seq}` });
  }
  await insertRunLogLines(env.prisma, lines);
}

/** An open SSE connection: events as they are parsed, and a way to drop it. */
function connect(
  path: string,
  token: string,
  headers: Record<string, string> = {},
): { events: SseEvent[]; response: Promise<Response>; done: Promise<void>; close(): void } {
  const controller = new AbortController();
  const events: SseEvent[] = [];
  const response = fetch(`${env.url}${path}`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  const done = (async () => {
    const res = await response;
    if (res.body === null || res.status !== 200) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let cut = buffer.indexOf('\n\n');
        while (cut !== -1) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          cut = buffer.indexOf('\n\n');
          const fields = new Map<string, string>();
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const at = line.indexOf(': ');
            if (at > 0) fields.set(line.slice(0, at), line.slice(at + 2));
          }
          const data = fields.get('data');
          if (fields.has('event') && data !== undefined) {
            events.push({ id: fields.get('id'), event: fields.get('event') ?? '', data: JSON.parse(data) });
          }
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
  })();
  return { events, response, done, close: () => controller.abort() };
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const seqs = (events: readonly SseEvent[]): number[] =>
  events.filter((e) => e.event === 'log').map((e) => (e.data as { seq: number }).seq);

describe('SSE log tail', () => {
  test('tails live, resumes after Last-Event-ID with no gap and no duplicate, and ends with the status', async () => {
    const runId = await runningRun();
    await writeLines(runId, 0, 4);
    const first = connect(`/api/runs/${runId}/logs/stream`, viewer.token);
    const res = await first.response;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    await until(() => seqs(first.events).length === 5);
    await writeLines(runId, 5, 7); // arrive while the client listens
    await until(() => seqs(first.events).length === 8);
    expect(
      first.events.every((e) => e.event !== 'log' || e.id === String((e.data as { seq: number }).seq)),
    ).toBe(true);
    first.close();
    await first.done;
    const lastId = first.events.at(-1)?.id ?? '';
    expect(lastId).toBe('7');

    // Lines written while no one listens, then the run ends.
    await writeLines(runId, 8, 11);
    await env.prisma.run.update({
      where: { id: runId },
      data: { status: 'succeeded', finishedAt: new Date() },
    });

    const second = connect(`/api/runs/${runId}/logs/stream`, viewer.token, { 'last-event-id': lastId });
    await second.done; // the server closes the stream after `end`
    expect(seqs(second.events)).toEqual([8, 9, 10, 11]);
    expect(second.events.at(-1)).toEqual({
      id: undefined,
      event: 'end',
      data: { runId, status: 'succeeded', lastSeq: 11 },
    });
    expect([...seqs(first.events), ...seqs(second.events)]).toEqual(Array.from({ length: 12 }, (_, i) => i));
  }, 30_000);

  test('?afterSeq= starts after that line; Last-Event-ID wins over it', async () => {
    const runId = await runningRun();
    await writeLines(runId, 0, 3);
    await env.prisma.run.update({ where: { id: runId }, data: { status: 'failed', finishedAt: new Date() } });
    const fromQuery = connect(`/api/runs/${runId}/logs/stream?afterSeq=1`, viewer.token);
    await fromQuery.done;
    expect(seqs(fromQuery.events)).toEqual([2, 3]);
    expect(fromQuery.events.at(-1)?.data).toEqual({ runId, status: 'failed', lastSeq: 3 });
    const both = connect(`/api/runs/${runId}/logs/stream?afterSeq=0`, viewer.token, { 'last-event-id': '2' });
    await both.done;
    expect(seqs(both.events)).toEqual([3]);
  }, 30_000);

  test('outside the scenes is 403; a Last-Event-ID that is not a seq is 400', async () => {
    const runId = await runningRun();
    const denied = await env.call('GET', `/api/runs/${runId}/logs/stream`, { token: outsider.token });
    expect(denied.status).toBe(403);
    const bad = await env.call('GET', `/api/runs/${runId}/logs/stream`, {
      token: viewer.token,
      headers: { 'last-event-id': 'abc' },
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('Last-Event-ID');
    const missing = await env.call('GET', `/api/runs/${newId('run')}/logs/stream`, { token: viewer.token });
    expect(missing.status).toBe(404);
  });
});
