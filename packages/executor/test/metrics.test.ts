/**
 * The runnable executor's metrics endpoint, on real child processes: `--metrics-port 0` serves /metrics
 * (runs started and finished by flow and status, durations, active runs, registration, Redis connection,
 * heartbeat failures, isolation threads and their replacements, the wait from queue to start, process metrics) and /healthz (200 while registered and connected, 503 naming what is
 * wrong while Redis is down or the record is gone). Off by default; a port that is taken exits 1.
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startPrivateRedis, waitFor } from '@kisjobs/testing';
import type { ExecutorChild } from './support/executors.js';
import { stages, type Stage } from './support/stage.js';
import { SchedulerSide, newToken, runRequest } from './support/scheduler-side.js';

const stage = stages();
afterEach(() => stage.cleanup());

function spawnWithMetrics(s: Stage, args: string[] = ['--metrics-port', '0']): ExecutorChild {
  return stage.spawn(s, { args });
}

/** The endpoint's base URL, from the "metrics endpoint listening" line. */
async function endpointOf(child: ExecutorChild): Promise<string> {
  const line = await child.waitForLine((l) => l.msg === 'metrics endpoint listening');
  return String(line['url']).replace(/\/metrics$/, '');
}

async function scrape(base: string): Promise<string> {
  const response = await fetch(`${base}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** The value of one sample (`name{labels}`, labels in the order prom-client writes them). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function health(base: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}/healthz`);
  return { status: response.status, body: await response.json() };
}

describe('executor metrics endpoint', () => {
  it('counts runs by flow and status, times them, and reports health', async () => {
    const s = await stage.shared('exec-metrics');
    const child = spawnWithMetrics(s);
    const base = await endpointOf(child);
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await child.started();
    expect(await health(base)).toEqual({ status: 200, body: { status: 'ok' } });

    const before = await scrape(base);
    expect(sample(before, 'kisjobs_executor_registered')).toBe(1);
    expect(sample(before, 'kisjobs_executor_redis_connected')).toBe(1);
    expect(sample(before, 'kisjobs_executor_active_runs')).toBe(0);
    expect(sample(before, 'kisjobs_executor_heartbeat_failures_total{reason="refused"}')).toBe(0);
    expect(sample(before, 'kisjobs_executor_isolation_threads')).toBeGreaterThanOrEqual(1);
    expect(sample(before, 'kisjobs_executor_isolation_threads_replaced_total')).toBe(0);
    expect(sample(before, 'kisjobs_executor_queued_runs_reclaimed_total')).toBe(0);
    expect(before).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(before).toMatch(/^nodejs_heap_size_used_bytes \d/m);

    const ok = [await s.side.enqueue(runRequest('etl')), await s.side.enqueue(runRequest('etl'))];
    const bad = await s.side.enqueue(runRequest('throw'));
    for (const r of ok) expect((await s.side.finished(r.runId)).status).toBe('succeeded');
    expect((await s.side.finished(bad.runId)).status).toBe('failed');
    const held = await s.side.enqueue(runRequest('sleep', { params: { ms: '1500' } }));
    await s.side.waitForEvent(held.runId, 'started');

    const during = await scrape(base);
    expect(sample(during, 'kisjobs_executor_active_runs')).toBe(1);
    expect(sample(during, 'kisjobs_executor_runs_started_total{flow="etl"}')).toBe(2);
    expect(sample(during, 'kisjobs_executor_runs_started_total{flow="throw"}')).toBe(1);
    expect(sample(during, 'kisjobs_executor_runs_started_total{flow="sleep"}')).toBe(1);
    expect(sample(during, 'kisjobs_executor_runs_finished_total{flow="etl",status="succeeded"}')).toBe(2);
    expect(sample(during, 'kisjobs_executor_runs_finished_total{flow="throw",status="failed"}')).toBe(1);
    expect(during).not.toContain('kisjobs_executor_runs_finished_total{flow="sleep"');
    expect(sample(during, 'kisjobs_executor_run_duration_seconds_count{flow="etl",status="succeeded"}')).toBe(
      2,
    );
    expect(
      sample(during, 'kisjobs_executor_run_duration_seconds_sum{flow="etl",status="succeeded"}'),
    ).toBeGreaterThan(0);
    // Every started run's wait in the queue is observed once.
    expect(sample(during, 'kisjobs_executor_run_wait_seconds_count')).toBe(4);
    expect(sample(during, 'kisjobs_executor_run_wait_seconds_sum')).toBeGreaterThanOrEqual(0);

    expect((await s.side.finished(held.runId)).status).toBe('succeeded');
    const after = await scrape(base);
    expect(sample(after, 'kisjobs_executor_active_runs')).toBe(0);
    expect(sample(after, 'kisjobs_executor_runs_finished_total{flow="sleep",status="succeeded"}')).toBe(1);
    expect(
      sample(after, 'kisjobs_executor_run_duration_seconds_bucket{le="1",flow="sleep",status="succeeded"}'),
    ).toBe(0);
    expect(
      sample(after, 'kisjobs_executor_run_duration_seconds_bucket{le="2.5",flow="sleep",status="succeeded"}'),
    ).toBe(1);

    // A delayed run (a retry's backoff) waits from the end of its delay, not from when it was added.
    const delayed = await s.side.enqueue(runRequest('etl'), undefined, { delayMs: 2_500 });
    const addedAt = Date.now();
    expect((await s.side.finished(delayed.runId)).status).toBe('succeeded');
    expect(Date.now() - addedAt).toBeGreaterThanOrEqual(2_400);
    const waited = await scrape(base);
    expect(sample(waited, 'kisjobs_executor_run_wait_seconds_count')).toBe(5);
    const within = (text: string) => sample(text, 'kisjobs_executor_run_wait_seconds_bucket{le="1"}') ?? 0;
    expect(within(waited) - within(after)).toBe(1);

    // A run stuck in a CPU loop is ended by killing its thread, which is then replaced.
    const stuck = await s.side.enqueue(runRequest('spin'));
    await s.side.waitForEvent(stuck.runId, 'started');
    await s.side.terminate(stuck.runId);
    expect((await s.side.finished(stuck.runId)).status).toBe('terminated');
    expect(sample(await scrape(base), 'kisjobs_executor_isolation_threads_replaced_total')).toBe(1);

    const headOnly = await fetch(`${base}/metrics`, { method: 'HEAD' });
    expect(headOnly.status).toBe(200);
    expect(await headOnly.text()).toBe('');
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');

    child.signal('SIGTERM');
    expect((await child.exit()).code).toBe(0);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow('fetch failed'); // closed with the executor
  });

  it('is 503 while Redis is down or the record is gone, and counts the heartbeats that failed', async () => {
    const server = await startPrivateRedis({ persistent: true }); // its data survives the restart
    const client = new Redis(server.url, { maxRetriesPerRequest: null });
    client.on('error', () => undefined);
    const side = new SchedulerSide(client, 'metrics');
    stage.defer(async () => {
      await side.close();
      client.disconnect();
      await server.close();
    });
    const token = newToken();
    await side.seedToken(token);
    const child = spawnWithMetrics({ side, redisUrl: server.url, prefix: 'metrics', token });
    const base = await endpointOf(child);
    await child.started();
    expect((await health(base)).status).toBe(200);

    await server.stop();
    await waitFor(async () => (await health(base)).status === 503, { timeoutMs: 5_000, message: '503' });
    expect((await health(base)).body).toEqual({ status: 'unavailable', registered: true, redis: 'down' });
    await waitFor(
      async () =>
        (sample(await scrape(base), 'kisjobs_executor_heartbeat_failures_total{reason="stalled"}') ?? 0) >= 1,
      { timeoutMs: 8_000, message: 'a stalled heartbeat' },
    );
    expect(sample(await scrape(base), 'kisjobs_executor_redis_connected')).toBe(0);
    await server.start();
    await waitFor(async () => (await health(base)).status === 200, { timeoutMs: 10_000, message: 'back' });

    await client.flushall(); // the record and the token mirror are gone: re-registering is refused
    await waitFor(async () => (await health(base)).status === 503, { timeoutMs: 8_000, message: 'refused' });
    expect((await health(base)).body).toEqual({ status: 'unavailable', registered: false, redis: 'up' });
    const refused = await scrape(base);
    expect(
      sample(refused, 'kisjobs_executor_heartbeat_failures_total{reason="refused"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(refused, 'kisjobs_executor_registered')).toBe(0);
    await side.seedToken(token);
    await waitFor(async () => (await health(base)).status === 200, {
      timeoutMs: 8_000,
      message: 'registered again',
    });
    expect(sample(await scrape(base), 'kisjobs_executor_registered')).toBe(1);
  });

  it('starts --warm-threads isolation threads before it takes runs', async () => {
    const s = await stage.shared('exec-metrics');
    const child = spawnWithMetrics(s, ['--metrics-port', '0', '--warm-threads', '3', '--concurrency', '4']);
    const base = await endpointOf(child);
    await child.started();
    expect(sample(await scrape(base), 'kisjobs_executor_isolation_threads')).toBe(3);
  });

  it('is off by default, and a port that is taken exits 1 before registering', async () => {
    const s = await stage.shared('exec-metrics-off');
    const plain = spawnWithMetrics(s, []);
    await plain.started();
    expect(plain.lines.some((l) => l.msg === 'metrics endpoint listening')).toBe(false);

    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    stage.defer(() => new Promise((resolve) => blocker.close(() => resolve())));
    const port = (blocker.address() as AddressInfo).port;
    const taken = spawnWithMetrics(s, ['--metrics-port', String(port)]);
    expect((await taken.exit()).code).toBe(1);
    expect(taken.output()).toContain(`the metrics endpoint cannot listen on 127.0.0.1:${port}`);
    expect(taken.lines.some((l) => l.msg === 'executor started')).toBe(false);
  });
});
