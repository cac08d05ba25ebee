/**
 * DESIGN §2.1, exactly once per fire time, with the real stack: three scheduler replicas (child
 * processes), one executor (child process, concurrency 16), 200 jobs firing every second for 60 s. Midway
 * the replica holding the most leases is killed with SIGKILL and started again. Every (job, second) of
 * the window must have exactly one run, none missing, and every run must have been executed.
 *
 * The jobs' window [W, W + 60 s) bounds the fires exactly, so there is no partial first or last second.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '@kisjobs/testing';
import {
  firesOf,
  nextWholeSecond,
  startScheduleStack,
  type ScheduleStack,
  type ServiceChild,
} from './support/stack.js';

const JOBS = 200;
const SECONDS = 60;
const KILL_AT_S = 30;
const RESTART_AFTER_MS = 3_000;

let stack: ScheduleStack;

beforeAll(async () => {
  stack = await startScheduleStack('sched-replicas');
});
afterAll(async () => {
  await stack?.close();
});

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

describe('three scheduler replicas, 200 jobs every second for 60 s', () => {
  it('fire each (job, second) exactly once, across a kill -9 and restart of a replica', async () => {
    const replicas = new Map<string, ServiceChild>();
    await Promise.all(
      ['r0', 'r1', 'r2'].map(async (name) => replicas.set(name, await stack.spawnScheduler({ name }))),
    );
    await stack.spawnExecutor({ concurrency: 16 });

    const planned = nextWholeSecond(2_000 + JOBS * 15);
    const window = {
      startAt: new Date(planned).toISOString(),
      endAt: new Date(planned + SECONDS * 1000).toISOString(),
    };
    const jobIds: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const job = await stack.admin.createJob({
        name: `every-second-${i}`,
        sceneId: stack.sceneId,
        flowName: 'noop',
        group: stack.group,
        schedule: { type: 'cron', expr: '* * * * * *', timezone: 'Europe/Berlin' },
        window,
        blockStrategy: 'parallel',
      });
      jobIds.push(job.id);
    }
    expect(Date.now()).toBeLessThan(planned); // every job existed before its window opened

    // Midway: kill -9 the replica that holds the most leases right now, then start it again.
    await sleep(planned + KILL_AT_S * 1000 - Date.now());
    const holders = await stack.prisma.$queryRawUnsafe<{ owner: string; n: bigint }[]>(
      `SELECT split_part(lease_owner, '.', 1) AS owner, count(*) AS n FROM jobs
       WHERE lease_owner IS NOT NULL GROUP BY 1 ORDER BY 2 DESC`,
    );
    const victim = holders[0]?.owner ?? 'r0';
    const killedAt = Date.now();
    await replicas.get(victim)?.kill('SIGKILL');
    await sleep(RESTART_AFTER_MS);
    replicas.set(victim, await stack.spawnScheduler({ name: victim }));

    // Every fire of the window recorded, then executed.
    const expected = JOBS * SECONDS;
    await waitFor(async () => (await stack.prisma.run.count()) >= expected || undefined, {
      timeoutMs: Math.max(0, planned + SECONDS * 1000 - Date.now()) + 30_000,
      message: 'every fire recorded',
    });
    await waitFor(
      async () => (await stack.prisma.run.count({ where: { status: { in: ['pending', 'running'] } } })) === 0,
      { timeoutMs: 60_000, message: 'every run finished' },
    );
    await sleep(2_000); // a duplicate fired late by a replica would show up now

    const fires = await firesOf(stack.prisma);
    const byJob = new Map<string, number[]>();
    for (const fire of fires)
      byJob.set(fire.jobId, [...(byJob.get(fire.jobId) ?? []), fire.scheduledAt.getTime()]);
    const seconds = Array.from({ length: SECONDS }, (_, k) => planned + k * 1000);
    const wrong = jobIds.filter((id) => JSON.stringify(byJob.get(id)) !== JSON.stringify(seconds));
    expect(wrong, `jobs whose fires are not exactly the ${SECONDS} seconds of the window`).toEqual([]);
    expect(fires).toHaveLength(expected);
    expect(new Set(fires.map((f) => f.triggerType))).toEqual(new Set(['cron']));
    expect(fires.filter((f) => f.status !== 'succeeded')).toEqual([]);

    // Figures for the log: how late fires were recorded, overall and in the seconds after the kill.
    const lateness = fires
      .map((f) => f.triggeredAt.getTime() - f.scheduledAt.getTime())
      .sort((a, b) => a - b);
    const afterKill = fires
      .filter((f) => f.scheduledAt.getTime() >= killedAt && f.scheduledAt.getTime() < killedAt + 6_000)
      .map((f) => f.triggeredAt.getTime() - f.scheduledAt.getTime())
      .sort((a, b) => a - b);
    console.log(
      `killed ${victim} (held ${holders[0]?.n ?? 0} of ${holders.reduce((n, h) => n + Number(h.n), 0)} leases); ` +
        `recorded lateness p50 ${percentile(lateness, 50)} ms, p99 ${percentile(lateness, 99)} ms, ` +
        `max ${lateness.at(-1)} ms; in the 6 s after the kill: max ${afterKill.at(-1)} ms`,
    );
  }, 240_000);
});
