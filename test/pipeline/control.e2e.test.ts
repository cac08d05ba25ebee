/**
 * Control and bad input end to end: per-job timeout, terminate (cooperative and CPU-bound) within 2 s while
 * the executor keeps serving another run, a RunRequest that fails schema validation, log lines in order,
 * and a registration with a wrong token.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@kisjobs/protocol';
import type { ExecutorChild } from '../support/executor-child.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

let p: Pipeline;
let executor: ExecutorChild;
beforeAll(async () => {
  p = await startPipeline('e2e-control');
  executor = await p.spawnExecutor({ instanceId: 'ctl-a', concurrency: 4 });
});
afterAll(async () => p?.close());

describe('timeouts and terminate', () => {
  it('a run that outlives its job timeout ends timed_out', async () => {
    const jobId = await p.job({ flowName: 'sleep', params: { ms: '10000' }, timeoutMs: 700 });
    const [runId] = await p.trigger(jobId);
    const run = await p.waitFinal(runId ?? '', 10_000);
    expect(run.status).toBe('timed_out');
    expect(run.errorCode).toBe('TIMEOUT');
  });

  it.each([
    ['a cooperative function', 'sleep', { ms: '30000' }],
    ['a while(true){} function', 'spin', {}],
  ])(
    'terminate of %s ends it terminated within 2 s while another run on the executor goes on',
    async (_what, flowName, params) => {
      const bystanderJob = await p.job({ flowName: 'sleep', params: { ms: '3000' } });
      const [bystander] = await p.trigger(bystanderJob);
      const jobId = await p.job({ flowName, params });
      const [runId] = await p.trigger(jobId);
      await Promise.all([p.waitStatus(runId ?? '', 'running'), p.waitStatus(bystander ?? '', 'running')]);
      const started = Date.now();
      const result = await p.scheduler.terminate(runId ?? '', {
        requestedBy: 'usr_e2e',
        reason: 'operator stop',
      });
      expect(result.outcome).toBe('requested');
      const run = await p.waitFinal(runId ?? '', 5_000);
      const elapsed = Date.now() - started;
      expect(run.status).toBe('terminated');
      expect(elapsed).toBeLessThan(2_000);
      // The executor stayed healthy: the other run finishes normally, and a new one runs.
      expect((await p.waitFinal(bystander ?? '', 10_000)).status).toBe('succeeded');
      const [next] = await p.trigger(await p.job());
      expect((await p.waitFinal(next ?? '')).status).toBe('succeeded');
      expect(executor.child.exitCode).toBeNull();
    },
  );
});

describe('bad input and logs', () => {
  it('a RunRequest that fails schema validation fails its run with PAYLOAD_INVALID naming the field; the executor survives', async () => {
    const jobId = await p.job();
    // A real run row, then a payload for it with a broken field, straight into the group queue.
    const result = await p.scheduler.trigger(jobId, {
      triggerType: 'manual',
      triggeredBy: 'usr_e2e',
      scheduledAt: new Date(Date.now() + 3_600_000),
    });
    const runId = result.runIds[0] ?? '';
    const queue = new Queue(p.scheduler.keyspace.groupQueue(p.group), {
      connection: p.redis.client,
      prefix: p.scheduler.keyspace.bullPrefix,
    });
    try {
      const good = await queue.getJob(runId);
      const data = { ...(good?.data as Record<string, unknown>), shardTotal: 'many' };
      await queue.remove(runId);
      await queue.add('run', data, { jobId: runId });
    } finally {
      await queue.close();
    }
    const run = await p.waitFinal(runId, 10_000);
    expect(run.status).toBe('failed');
    expect(run.errorCode).toBe('PAYLOAD_INVALID');
    expect(run.errorMessage).toContain('shardTotal');
    const [next] = await p.trigger(jobId);
    expect((await p.waitFinal(next ?? '')).status).toBe('succeeded');
    expect(executor.child.exitCode).toBeNull();
  });

  it('log lines of a function reach Postgres and read back in (run, seq) order', async () => {
    const jobId = await p.job({ flowName: 'chatty' });
    const [runId] = await p.trigger(jobId);
    expect((await p.waitFinal(runId ?? '')).status).toBe('succeeded');
    const lines = await waitForLines(runId ?? '', 26);
    const seqs = lines.map((l) => l.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    const logged = lines.filter((l) => l.message.startsWith('log line ')).map((l) => l.message);
    expect(logged).toEqual(Array.from({ length: 25 }, (_, i) => `log line ${i}`));
    // Paging by seq.
    const firstPage = await p.scheduler.runLogs(runId ?? '', { limit: 10 });
    const secondPage = await p.scheduler.runLogs(runId ?? '', {
      afterSeq: firstPage.at(-1)?.seq ?? 0,
      limit: 10,
    });
    expect([...firstPage, ...secondPage].map((l) => l.seq)).toEqual(seqs.slice(0, 20));
  });
});

describe('registration', () => {
  it('a wrong token: the executor exits 78, the scheduler logs the refusal, nothing is registered', async () => {
    const rogue = await p.spawnExecutor({
      instanceId: 'ctl-rogue',
      token: `kjs_${newId('tok').slice(4)}wrongwrong`,
      waitOnline: false,
    });
    const exit = await rogue.exit();
    expect(exit.code).toBe(78);
    await expect
      .poll(
        () => p.logs.some((l) => JSON.stringify(l).includes('ctl-rogue') && /refus|reject/i.test(l.msg)),
        {
          timeout: 10_000,
        },
      )
      .toBe(true);
    const executors = await p.scheduler.listExecutors({ group: p.group });
    expect(executors.map((e) => e.instanceId)).not.toContain('ctl-rogue');
    expect(await p.redis.client.exists(p.scheduler.keyspace.executor('ctl-rogue'))).toBe(0);
  });
});

async function waitForLines(runId: string, atLeast: number) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const lines = await p.scheduler.runLogs(runId, { limit: 1000 });
    if (lines.length >= atLeast || Date.now() > deadline) return lines;
    await new Promise((r) => setTimeout(r, 100));
  }
}
