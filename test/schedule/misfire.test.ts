/**
 * Misfire policies with the real stack (DESIGN §3): the only scheduler replica is stopped for a known
 * span, then started again at a known instant (its engine is held back until then). Exactly which fires
 * happen afterwards is checked, with their trigger types: `skip` makes none of the missed ones,
 * `fire_once_now` one (the latest missed instant, as `misfire`), `catch_up` the latest `catchUpLimit`.
 *
 * Timeline (seconds from A, a multiple of 4): fires at 0 and 4; stop at 5; instants 8, 12 and 16 are
 * missed; the engine resumes at 18 (16 is then 2 s late, over the 1 s threshold used here); 20 and 24
 * fire normally; the window closes at 25.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '@kisjobs/testing';
import { firesOf, startScheduleStack, type ScheduleStack } from './support/stack.js';

let stack: ScheduleStack;

beforeAll(async () => {
  stack = await startScheduleStack('sched-misfire');
});
afterAll(async () => {
  await stack?.close();
});

describe('a scheduler stopped for a known span', () => {
  it('makes exactly the fires each misfire policy asks for, recorded as misfire', async () => {
    const tuning = { misfireThresholdMs: 1_000 };
    const first = await stack.spawnScheduler({ name: 's1', tuning });
    await stack.spawnExecutor({ concurrency: 4 });
    const A = Math.ceil((Date.now() + 4_000) / 4_000) * 4_000;
    const window = { startAt: new Date(A).toISOString(), endAt: new Date(A + 25_000).toISOString() };
    const create = async (name: string, extra: Record<string, unknown>) =>
      (
        await stack.admin.createJob({
          name,
          sceneId: stack.sceneId,
          flowName: 'noop',
          group: stack.group,
          schedule: { type: 'cron', expr: '*/4 * * * * *', timezone: 'America/New_York' },
          window,
          ...extra,
        })
      ).id;
    const ids = {
      skip: await create('skip', { misfire: { policy: 'skip' } }),
      once: await create('fire-once-now', { misfire: { policy: 'fire_once_now' } }),
      catchUp: await create('catch-up', { misfire: { policy: 'catch_up', catchUpLimit: 2 } }),
      rate: await create('fixed-rate', {
        schedule: { type: 'fixed_rate', everyMs: 4_000 },
        misfire: { policy: 'catch_up', catchUpLimit: 5 },
      }),
    };

    await sleep(A + 5_000 - Date.now());
    await first.kill('SIGTERM');
    const stoppedAt = Date.now();
    expect(stoppedAt).toBeLessThan(A + 7_000); // stopped before the instant 8
    const resumeAt = A + 18_000;
    const second = await stack.spawnScheduler({ name: 's2', tuning, startAt: resumeAt });
    await second.waitForLine((line) => line.msg === 'schedule engine started', 30_000);

    // Past the window, once every run has ended (or a bound), the fires are what they will ever be.
    await sleep(A + 25_500 - Date.now());
    await waitFor(
      async () =>
        (await firesOf(stack.prisma)).every((f) => f.status !== 'pending' && f.status !== 'running'),
      { timeoutMs: 20_000, message: 'every run ended' },
    ).catch(() => undefined);
    const fires = await firesOf(stack.prisma);
    const of = (id: string) =>
      fires
        .filter((f) => f.jobId === id)
        .map((f) => `${(f.scheduledAt.getTime() - A) / 1000}:${f.triggerType}`);
    expect(of(ids.skip)).toEqual(['0:cron', '4:cron', '20:cron', '24:cron']);
    expect(of(ids.once)).toEqual(['0:cron', '4:cron', '16:misfire', '20:cron', '24:cron']);
    expect(of(ids.catchUp)).toEqual(['0:cron', '4:cron', '12:misfire', '16:misfire', '20:cron', '24:cron']);
    expect(of(ids.rate)).toEqual([
      '0:fixed_rate',
      '4:fixed_rate',
      '8:misfire',
      '12:misfire',
      '16:misfire',
      '20:fixed_rate',
      '24:fixed_rate',
    ]);
    expect(fires.filter((f) => f.status !== 'succeeded')).toEqual([]);
    // The misfires were made when the engine resumed, not before.
    for (const fire of fires.filter((f) => f.triggerType === 'misfire')) {
      expect(fire.triggeredAt.getTime()).toBeGreaterThanOrEqual(resumeAt);
      expect(fire.triggeredAt.getTime()).toBeLessThan(resumeAt + 1_500);
    }
  }, 120_000);
});
