/**
 * Job alerts end to end: runs that really fail on a real executor reach a real local HTTP receiver as
 * signed webhooks. A receiver that answers 500 twice gets the same delivery a third time, after backoff
 * delays that double; a 4xx is not retried; a retried job alerts once, for its last attempt; timed-out and lost runs alert too; a job without
 * alerts, a succeeded run, and an ending the job did not ask about send nothing.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '@kisjobs/scheduler';
import { waitFor } from '@kisjobs/testing';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
}

const SECRET = 'a webhook secret of some length';
const BASE_DELAY_MS = 300;
let p: Pipeline;
let server: Server;
let url: string;
const received: Received[] = [];
/** Statuses to answer per path, in order; then 200. */
const script = new Map<string, number[]>();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const path = req.url ?? '';
      received.push({ path, headers: req.headers, body, at: Date.now() });
      res.statusCode = script.get(path)?.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  p = await startPipeline('e2e-alerts', {
    alerts: { pollMs: 100, baseDelayMs: BASE_DELAY_MS, maxAttempts: 4 },
  });
  await p.spawnExecutor({ instanceId: 'alerts-a', concurrency: 4 });
});
afterAll(async () => {
  await p?.close();
  await new Promise((resolve) => server?.close(resolve));
});

const alertsTo = (path: string, on: string[] = ['failed', 'timed_out', 'lost']) => ({
  alerts: { on, webhook: { url: `${url}${path}`, secret: SECRET } },
});
const at = (path: string) => received.filter((r) => r.path === path);

describe('webhook alerts', () => {
  it('signs the alert of a failed run, and retries a 500 with doubling delays until it is taken', async () => {
    script.set('/flaky', [500, 500]);
    const jobId = await p.job({ flowName: 'throw', ...alertsTo('/flaky') });
    const [runId] = await p.trigger(jobId);
    await p.waitStatus(runId ?? '', 'failed');
    await waitFor(() => at('/flaky').length >= 3, { timeoutMs: 15_000, message: 'three attempts' });
    const tries = at('/flaky');
    expect(tries).toHaveLength(3);
    const ids = new Set(tries.map((t) => t.headers['x-kisjobs-delivery']));
    expect(ids.size).toBe(1);
    for (const t of tries) {
      const ok = verifyWebhook(
        SECRET,
        String(t.headers['x-kisjobs-timestamp']),
        t.body,
        String(t.headers['x-kisjobs-signature']),
      );
      expect(ok).toBe(true);
      expect(
        verifyWebhook(
          'another secret entirely',
          String(t.headers['x-kisjobs-timestamp']),
          t.body,
          String(t.headers['x-kisjobs-signature']),
        ),
      ).toBe(false);
    }
    const payload = JSON.parse(tries[2]?.body ?? '{}') as {
      event: string;
      run: { id: string; error: { message: string } };
      job: { id: string };
    };
    expect(payload).toMatchObject({ event: 'run.failed', run: { id: runId }, job: { id: jobId } });
    expect(payload.run.error.message).toContain('the data is bad');
    const gap1 = (tries[1]?.at ?? 0) - (tries[0]?.at ?? 0);
    const gap2 = (tries[2]?.at ?? 0) - (tries[1]?.at ?? 0);
    expect(gap1).toBeGreaterThanOrEqual(BASE_DELAY_MS);
    expect(gap2).toBeGreaterThanOrEqual(2 * BASE_DELAY_MS);
    await waitFor(
      async () =>
        (await p.prisma.alertDelivery.findFirst({ where: { runId: runId ?? '' } }))?.status === 'delivered',
      { timeoutMs: 5_000, message: 'delivered' },
    );
    const row = await p.prisma.alertDelivery.findFirstOrThrow({ where: { runId: runId ?? '' } });
    expect(row.attempts).toBe(3);
  });

  it('does not retry a receiver that refuses with a 4xx', async () => {
    script.set('/gone', [410]);
    const jobId = await p.job({ flowName: 'throw', ...alertsTo('/gone') });
    const [runId] = await p.trigger(jobId);
    await p.waitStatus(runId ?? '', 'failed');
    await waitFor(
      async () =>
        (await p.prisma.alertDelivery.findFirst({ where: { runId: runId ?? '' } }))?.status === 'failed',
      { timeoutMs: 10_000, message: 'given up' },
    );
    await new Promise((r) => setTimeout(r, 3 * BASE_DELAY_MS));
    expect(at('/gone')).toHaveLength(1);
    const row = await p.prisma.alertDelivery.findFirstOrThrow({ where: { runId: runId ?? '' } });
    expect(row.lastError).toContain('410');
  });

  it('alerts once for a job whose retries all fail: for the last attempt, not for each', async () => {
    const jobId = await p.job({
      flowName: 'throw',
      retry: { attempts: 2, delayMs: 100 },
      ...alertsTo('/retried'),
    });
    await p.trigger(jobId);
    await waitFor(async () => (await p.runsOf(jobId)).filter((r) => r.status === 'failed').length === 3, {
      timeoutMs: 20_000,
      message: 'three failed attempts',
    });
    await waitFor(() => at('/retried').length >= 1, { timeoutMs: 5_000, message: 'the alert' });
    await new Promise((r) => setTimeout(r, 1_000));
    const last = (await p.runsOf(jobId)).find((r) => r.attempt === 3);
    expect(at('/retried')).toHaveLength(1);
    const body = JSON.parse(at('/retried')[0]?.body ?? '{}') as { run: { id: string; attempt: number } };
    expect(body.run).toMatchObject({ id: last?.id, attempt: 3 });
    expect(await p.prisma.alertDelivery.count({ where: { run: { jobId } } })).toBe(1);
  });

  it('alerts for a run that timed out, and for a run lost with its executor (SIGKILL)', async () => {
    const slow = await p.job({
      flowName: 'sleep',
      params: { ms: '5000' },
      timeoutMs: 300,
      ...alertsTo('/ended'),
    });
    const [timedOutId] = await p.trigger(slow);
    const victim = await p.spawnExecutor({ instanceId: 'alerts-victim', concurrency: 1 });
    const pinned = await p.job({
      flowName: 'sleep',
      params: { ms: '30000' },
      routing: { strategy: 'pinned', executorInstanceId: 'alerts-victim' },
      ...alertsTo('/ended'),
    });
    const [lostId] = await p.trigger(pinned);
    await p.waitStatus(lostId ?? '', 'running');
    await victim.kill('SIGKILL');
    await p.waitStatus(lostId ?? '', 'lost', 15_000);
    await waitFor(() => at('/ended').length >= 2, { timeoutMs: 10_000, message: 'two alerts' });
    const events = at('/ended').map((r) => {
      const body = JSON.parse(r.body) as { event: string; run: { id: string } };
      return [body.run.id, body.event];
    });
    expect(Object.fromEntries(events)).toEqual({
      [timedOutId ?? '']: 'run.timed_out',
      [lostId ?? '']: 'run.lost',
    });
    expect(events).toHaveLength(2);
    for (const r of at('/ended')) {
      const timestamp = String(r.headers['x-kisjobs-timestamp']);
      expect(verifyWebhook(SECRET, timestamp, r.body, String(r.headers['x-kisjobs-signature']))).toBe(true);
    }
  });

  it('sends nothing for a job without alerts, a succeeded run, or an ending the job did not ask about', async () => {
    const quiet = await p.job({ flowName: 'throw' });
    const ok = await p.job({ flowName: 'noop', ...alertsTo('/ok') });
    const timedOut = await p.job({
      flowName: 'sleep',
      params: { ms: '5000' },
      timeoutMs: 300,
      ...alertsTo('/only-failed', ['failed']),
    });
    const runs = [...(await p.trigger(quiet)), ...(await p.trigger(ok)), ...(await p.trigger(timedOut))];
    await Promise.all(runs.map((id) => p.waitFinal(id, 15_000)));
    expect((await p.run(runs[2] ?? '')).status).toBe('timed_out');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(at('/ok')).toEqual([]);
    expect(at('/only-failed')).toEqual([]);
    expect(await p.prisma.alertDelivery.count({ where: { runId: { in: runs } } })).toBe(0);
  });
});
