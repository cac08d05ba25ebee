/**
 * The heartbeat is written from a thread of its own (heartbeat.ts): a main event loop blocked for longer
 * than the heartbeat TTL does not let the key expire, while one blocked past `mainStallLimitMs` does (a
 * wedged executor must go offline), and the beats come back once it runs again. The key is watched from a
 * separate process, since the main thread of this one is the one blocked.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { HEARTBEAT_TTL_MS } from '@kisjobs/protocol';
import { useTestRedis, waitFor, type TestRedis } from '@kisjobs/testing';
import type { Executor, ExecutorOptions, HeartbeatFailure } from '../src/index.js';
import { startInProcess, type LogLine } from './support/executors.js';
import { GROUP, SchedulerSide, newToken } from './support/scheduler-side.js';

const POLLER = fileURLToPath(new URL('./fixtures/heartbeat-poller.mjs', import.meta.url));

interface Sample {
  /** Date.now() of the poller. */
  readonly t: number;
  /** -2: the key does not exist. */
  readonly pttl: number;
  /** The beat's `at`. */
  readonly at: string | null;
}

let redis: TestRedis;
let side: SchedulerSide;
let executor: Executor | undefined;
const pollers: ChildProcess[] = [];

beforeEach(async () => {
  redis = await useTestRedis('exec-hb-thread');
  side = new SchedulerSide(redis.client, redis.prefix);
});

afterEach(async () => {
  for (const poller of pollers.splice(0)) poller.kill('SIGKILL');
  await executor?.close();
  executor = undefined;
  await side.close();
  await redis.close();
});

async function start(
  extra: Partial<ExecutorOptions> = {},
): Promise<{ executor: Executor; logs: LogLine[]; failures: HeartbeatFailure[] }> {
  const token = newToken();
  await side.seedToken(token);
  const failures: HeartbeatFailure[] = [];
  const started = await startInProcess(
    { redisUrl: redis.url, prefix: redis.prefix, token },
    { observer: { heartbeatFailed: (reason) => failures.push(reason) }, ...extra },
  );
  executor = started.executor;
  return { ...started, failures };
}

/** Starts sampling `key` in another process for `durationMs`; resolves once the first sample is taken. */
async function watchKey(key: string, durationMs: number): Promise<() => Promise<Sample[]>> {
  const child = spawn(process.execPath, [POLLER, redis.url, key, String(durationMs), '50'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  pollers.push(child);
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => void (out += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await waitFor(() => out.startsWith('ready\n'), { timeoutMs: 10_000, message: 'poller ready' });
  return async () => {
    expect(await exit).toBe(0);
    return JSON.parse(out.slice('ready\n'.length)) as Sample[];
  };
}

/** Keeps this thread busy (no timer, no I/O callback runs) for `ms`. */
function blockMainThread(ms: number): { readonly from: number; readonly to: number } {
  const from = Date.now();
  let spins = 0;
  while (Date.now() - from < ms) spins++;
  expect(spins).toBeGreaterThan(0);
  return { from, to: Date.now() };
}

it('keeps the heartbeat alive while the main event loop is blocked for longer than its TTL', async () => {
  const { executor, logs, failures } = await start();
  const id = executor.instanceId;
  const samplesOf = await watchKey(side.ks.heartbeat(id), 11_000);

  const blocked = blockMainThread(HEARTBEAT_TTL_MS + 2_000);

  const samples = await samplesOf();
  const during = samples.filter((s) => s.t >= blocked.from && s.t <= blocked.to);
  expect(during.length).toBeGreaterThan(20);
  expect(samples.filter((s) => s.pttl < 0)).toEqual([]); // the key never expired
  // The beats went on during the block (every 2 s), each topping the TTL up.
  expect(new Set(during.map((s) => s.at)).size).toBeGreaterThanOrEqual(3);
  expect(Math.min(...during.map((s) => s.pttl))).toBeGreaterThan(0);

  // Still online: record, group membership, heartbeat.
  expect(await redis.client.exists(side.ks.executor(id))).toBe(1);
  expect(await redis.client.sismember(side.ks.groupMembers(GROUP), id)).toBe(1);
  expect(await redis.client.pttl(side.ks.heartbeat(id))).toBeGreaterThan(0);
  expect(executor.stats()).toMatchObject({ state: 'running', registered: true });
  await waitFor(() => logs.some((l) => l.msg === 'the main event loop was blocked'), {
    message: 'the blocked main loop logged',
  });
  expect(logs.find((l) => l.msg === 'the main event loop was blocked')?.['blockedMs']).toBeGreaterThan(
    HEARTBEAT_TTL_MS,
  );
  expect(logs.filter((l) => l.level === 'error')).toEqual([]);
  expect(failures).toEqual([]);
});

it('withholds the beats once the main event loop has been silent for mainStallLimitMs, and beats again after', async () => {
  const { executor, logs, failures } = await start({ mainStallLimitMs: 1_500 });
  const id = executor.instanceId;
  const key = side.ks.heartbeat(id);
  const samplesOf = await watchKey(key, 13_000);

  const blocked = blockMainThread(10_000);
  // The last beat was sent at most 1.5 s into the block, so the key (6 s TTL) is gone by 7.5 s.
  await waitFor(async () => (await redis.client.pttl(key)) > 0, {
    timeoutMs: 3_000,
    message: 'the heartbeat is back',
  });
  const backAt = Date.now();

  const samples = await samplesOf();
  const gone = samples.filter((s) => s.pttl === -2);
  expect(gone.length).toBeGreaterThan(0);
  const firstGone = gone[0]?.t ?? 0;
  expect(firstGone).toBeGreaterThan(blocked.from + 1_500);
  expect(firstGone).toBeLessThan(blocked.to);
  // Expired while blocked, back after: beats resumed without waiting for a full interval.
  expect(gone.every((s) => s.t <= backAt)).toBe(true);
  expect(samples.some((s) => s.t > blocked.to && s.pttl > 0)).toBe(true);
  expect(backAt - blocked.to).toBeLessThan(2_500);

  await waitFor(() => logs.some((l) => l.msg.startsWith('heartbeats resumed')), { message: 'resumed' });
  const withheld = logs.filter((l) => l.msg.startsWith('heartbeats withheld'));
  expect(withheld).toHaveLength(1);
  expect(withheld[0]).toMatchObject({ level: 'error', mainStallLimitMs: 1_500 });
  expect(withheld[0]?.['silentForMs']).toBeGreaterThan(1_500);
  const resumed = logs.find((l) => l.msg.startsWith('heartbeats resumed'));
  expect(resumed).toMatchObject({ level: 'warn' });
  expect(resumed?.['silentForMs']).toBeGreaterThan(9_000);
  expect(resumed?.['withheldBeats']).toBeGreaterThanOrEqual(3);
  expect(failures.filter((f) => f === 'withheld')).toHaveLength(Number(resumed?.['withheldBeats']));
  // No scheduler removed the record meanwhile here, so the beats simply go on.
  expect(await redis.client.exists(side.ks.executor(id))).toBe(1);
  expect(executor.stats().registered).toBe(true);
});

it('stops the heartbeat thread and closes its connection when the executor closes', async () => {
  const { executor } = await start();
  const id = executor.instanceId;
  const connection = `name=kisjobs-executor-${id}-heartbeat `;
  const clients = async (): Promise<string> => String(await redis.client.call('CLIENT', 'LIST'));
  await waitFor(async () => (await clients()).includes(connection), { message: 'heartbeat connection' });
  await executor.close();
  expect(await clients()).not.toContain(connection);
  expect(await redis.client.exists(side.ks.heartbeat(id))).toBe(0); // deregistered at once
});
