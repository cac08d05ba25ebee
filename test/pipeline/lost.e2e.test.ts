/**
 * An executor SIGKILLed in the middle of a run (DESIGN §2.2): with attempts left the run ends `lost` and a
 * retry (attempt 2, trigger `retry`) succeeds on another executor; without, it ends `lost` within 15 s and
 * never stays `running`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('e2e-lost');
  await p.spawnExecutor({ instanceId: 'lost-survivor', concurrency: 4 });
});
afterAll(async () => p?.close());

describe('an executor killed mid-run', () => {
  it('with a retry left: lost, then attempt 2 (trigger retry) succeeds on another executor', async () => {
    const victim = await p.spawnExecutor({ instanceId: 'lost-victim-1', concurrency: 2 });
    // Round robin alternates between the two executors: trigger until a run is running on the victim.
    const jobId = await p.job({
      flowName: 'sleep',
      params: { ms: '2500' },
      routing: { strategy: 'round_robin' },
      retry: { attempts: 1, delayMs: 0 },
    });
    let runId: string | undefined;
    for (let i = 0; i < 4 && runId === undefined; i++) {
      const [id] = await p.trigger(jobId);
      const run = await p.waitStatus(id ?? '', 'running');
      if (run.executorInstanceId === 'lost-victim-1') runId = id;
    }
    expect(runId).toBeDefined();
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    const lost = await p.waitFinal(runId ?? '', 15_000);
    expect(lost.status).toBe('lost');
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    const retry = await waitForRetry(runId ?? '');
    const done = await p.waitFinal(retry, 20_000);
    expect(done).toMatchObject({
      status: 'succeeded',
      attempt: 2,
      triggerType: 'retry',
      parentRunId: runId,
      executorInstanceId: 'lost-survivor',
    });
  });

  it('without a retry: the run ends lost within 15 s', async () => {
    const victim = await p.spawnExecutor({ instanceId: 'lost-victim-2', concurrency: 2 });
    const jobId = await p.job({
      flowName: 'sleep',
      params: { ms: '30000' },
      routing: { strategy: 'pinned', executorInstanceId: 'lost-victim-2' },
    });
    const [runId] = await p.trigger(jobId);
    await p.waitStatus(runId ?? '', 'running');
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    const run = await p.waitFinal(runId ?? '', 15_000);
    expect(run.status).toBe('lost');
    expect(run.errorMessage).toContain('lost-victim-2');
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect(await p.runsOf(jobId)).toHaveLength(1);
  });
});

async function waitForRetry(runId: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const retry = await p.prisma.run.findFirst({ where: { parentRunId: runId, triggerType: 'retry' } });
    if (retry !== null) return retry.id;
    if (Date.now() > deadline) throw new Error(`no retry of ${runId}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
