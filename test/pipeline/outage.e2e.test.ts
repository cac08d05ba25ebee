/**
 * A Postgres outage of 20 s during a burst of 1,000 runs (DESIGN §2.3): the executor keeps running them and
 * its results wait in the Redis streams; once Postgres is back, every run has its final state and none is
 * lost. The scheduler runs on a private Postgres that the test stops and starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivatePostgres, type PrivatePostgres } from '@kisjobs/testing';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

const RUNS = 1_000;
const OUTAGE_MS = 20_000;

let pg: PrivatePostgres;
let p: Pipeline;
beforeAll(async () => {
  pg = await startPrivatePostgres();
  p = await startPipeline('e2e-outage', { databaseUrl: pg.url, poolMax: 10 });
  await p.spawnExecutor({ instanceId: 'outage-a', concurrency: 25 });
});
afterAll(async () => {
  await p?.close();
  await pg?.close();
});

describe('Postgres outage during a burst', () => {
  it(
    `${RUNS} runs all end succeeded in Postgres after a ${OUTAGE_MS / 1000} s outage; none lost`,
    { timeout: 150_000 },
    async () => {
      // Each run sleeps 250 ms: at concurrency 25 the burst takes ~10 s, most of it inside the outage.
      const jobId = await p.job({ flowName: 'sleep', params: { ms: '250' } });
      const t0 = Date.now();
      const runIds: string[] = [];
      for (let i = 0; i < RUNS; i += 50) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(50, RUNS - i) }, () => p.trigger(jobId)),
        );
        runIds.push(...batch.flat());
      }
      expect(runIds).toHaveLength(RUNS);

      // The outage starts in the middle of the burst: most runs have not finished yet.
      const finishedBefore = await p.prisma.run.count({ where: { jobId, status: 'succeeded' } });
      expect(finishedBefore).toBeLessThan(RUNS / 2);
      await pg.stop();
      const downAt = Date.now();
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      await pg.start();
      const outage = Date.now() - downAt;
      expect(outage).toBeGreaterThanOrEqual(OUTAGE_MS);

      const backAt = Date.now();
      const counts = await waitForAllFinal(jobId, 90_000);
      console.log(
        `outage test: triggers ${downAt - t0} ms, before outage ${finishedBefore} done, catch-up ${Date.now() - backAt} ms`,
      );
      expect(counts).toEqual({ succeeded: RUNS });
      const lost = await p.prisma.run.count({
        where: { jobId, status: { in: ['lost', 'running', 'pending'] } },
      });
      expect(lost).toBe(0);
      // Every run ran once: no retries, no redelivered duplicates.
      expect(await p.prisma.run.count({ where: { jobId } })).toBe(RUNS);
    },
  );
});

async function waitForAllFinal(jobId: string, timeoutMs: number): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const rows = await p.prisma.run.groupBy({ by: ['status'], where: { jobId }, _count: { _all: true } });
      const counts = Object.fromEntries(rows.map((r) => [r.status, r._count._all]));
      if ((counts['pending'] ?? 0) + (counts['running'] ?? 0) === 0) return counts;
      if (Date.now() > deadline) return counts;
    } catch {
      // Postgres still coming back.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
