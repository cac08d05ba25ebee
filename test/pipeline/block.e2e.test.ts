/**
 * Block strategies end to end, with one executor process and runs that sleep: serial queues, discard
 * skips, replace terminates the running run, parallel runs both at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('e2e-block');
  await p.spawnExecutor({ instanceId: 'block-a', concurrency: 4 });
});
afterAll(async () => p?.close());

const sleepJob = (blockStrategy: string, ms = 1_500) =>
  p.job({ flowName: 'sleep', blockStrategy, params: { ms: String(ms) } });

describe('block strategies across an executor process', () => {
  it('serial: the second run waits for the first and starts after it ended', async () => {
    const jobId = await sleepJob('serial', 800);
    const [first] = await p.trigger(jobId);
    const [second] = await p.trigger(jobId);
    const [third] = await p.trigger(jobId);
    const runs = await Promise.all([first, second, third].map((id) => p.waitFinal(id ?? '', 20_000)));
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const [a, b, c] = runs;
    expect(b?.startedAt?.getTime()).toBeGreaterThanOrEqual(a?.finishedAt?.getTime() ?? Infinity);
    expect(c?.startedAt?.getTime()).toBeGreaterThanOrEqual(b?.finishedAt?.getTime() ?? Infinity);
  });

  it('discard: a trigger while the job runs is recorded skipped with its reason; the first run succeeds', async () => {
    const jobId = await sleepJob('discard');
    const [first] = await p.trigger(jobId);
    await p.waitStatus(first ?? '', 'running');
    const [second] = await p.trigger(jobId);
    const skipped = await p.run(second ?? '');
    expect(skipped.status).toBe('skipped');
    expect(skipped.skipReason).toMatch(/discard/);
    expect((await p.waitFinal(first ?? '')).status).toBe('succeeded');
  });

  it('replace: the running run is terminated and the new one runs', async () => {
    const jobId = await sleepJob('replace', 10_000);
    const [first] = await p.trigger(jobId);
    await p.waitStatus(first ?? '', 'running');
    const [second] = await p.trigger(jobId, { ms: '300' });
    const old = await p.waitFinal(first ?? '', 5_000);
    expect(old.status).toBe('terminated');
    expect((await p.waitFinal(second ?? '')).status).toBe('succeeded');
  });

  it('parallel: two runs of the job run at the same time', async () => {
    const jobId = await sleepJob('parallel', 1_500);
    const [first] = await p.trigger(jobId);
    const [second] = await p.trigger(jobId);
    const [a, b] = await Promise.all([p.waitFinal(first ?? ''), p.waitFinal(second ?? '')]);
    expect([a?.status, b?.status]).toEqual(['succeeded', 'succeeded']);
    // Overlapping: the second started before the first finished.
    expect(b?.startedAt?.getTime()).toBeLessThan(a?.finishedAt?.getTime() ?? 0);
  });
});
