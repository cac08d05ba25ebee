/**
 * The schedule engine against real Postgres, with a fake clock and a recording dispatcher port (the
 * end-to-end suite in test/schedule/ runs the real dispatcher and executors).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fireRunId } from '@kisjobs/protocol';
import { createScheduleEngine, type ScheduleEngine } from '../src/schedule/engine.js';
import {
  FakeClock,
  iso,
  memoryLogger,
  recordingDispatcher,
  runsOf,
  scheduleDb,
  seedJob,
  type RecordingDispatcher,
  type ScheduleDb,
} from './schedule-support.js';

const T0 = '2031-01-01T00:00:00.000Z';
const at = (s: number): Date => new Date(new Date(T0).getTime() + s * 1000);

let s: ScheduleDb;
let clock: FakeClock;
let port: RecordingDispatcher;
const engines: ScheduleEngine[] = [];

function engine(
  options: { batchSize?: number; maxClaimsPerTick?: number; dispatcher?: RecordingDispatcher } = {},
): ScheduleEngine {
  const e = createScheduleEngine({
    prisma: s.prisma,
    dispatcher: options.dispatcher ?? port,
    clock,
    logger: memoryLogger(),
    lookaheadMs: 0,
    leaseGraceMs: 2_000,
    retryBackoffMs: 1_000,
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    ...(options.maxClaimsPerTick === undefined ? {} : { maxClaimsPerTick: options.maxClaimsPerTick }),
  });
  engines.push(e);
  return e;
}

async function cycle(e: ScheduleEngine): Promise<void> {
  await e.tick();
  await e.idle();
}

const nextFireAt = async (id: string) =>
  (await s.prisma.job.findUniqueOrThrow({ where: { id } })).nextFireAt?.toISOString() ?? null;

beforeEach(async () => {
  s = await scheduleDb('sched-engine');
  clock = new FakeClock(T0);
  port = recordingDispatcher(s.prisma, s.sceneId);
});
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  await s.close();
});

describe('firing', () => {
  it('fires each due instant once and moves next_fire_at only after the fire is recorded', async () => {
    const id = await seedJob(s, { scheduleType: 'cron', cronExpr: '*/10 * * * * *', nextFireAt: at(10) });
    const seenAtFire: (string | null)[] = [];
    port.onFire = async () => void seenAtFire.push(await nextFireAt(id));
    const e = engine();
    clock.set(at(5));
    await cycle(e);
    expect(port.fires).toEqual([]);
    clock.set(at(10.2));
    await cycle(e);
    expect(seenAtFire).toEqual([at(10).toISOString()]); // not moved while firing
    expect(await nextFireAt(id)).toBe(at(20).toISOString()); // moved after
    clock.set(at(20));
    await cycle(e);
    clock.set(at(30.5));
    await cycle(e);
    expect(port.fires.map((f) => [f.scheduledAt.toISOString(), f.triggerType])).toEqual([
      [at(10).toISOString(), 'cron'],
      [at(20).toISOString(), 'cron'],
      [at(30).toISOString(), 'cron'],
    ]);
    const job = await s.prisma.job.findUniqueOrThrow({ where: { id } });
    expect(job.lastFireAt?.toISOString()).toBe(at(30).toISOString());
    expect(job.leaseOwner).toBeNull();
  });

  it('two engines split the due jobs between them, each job fired once', async () => {
    const ids = await Promise.all(
      Array.from({ length: 60 }, () =>
        seedJob(s, { scheduleType: 'fixed_rate', fixedRateMs: 60_000, startAt: at(0), nextFireAt: at(0) }),
      ),
    );
    const portB = recordingDispatcher(s.prisma, s.sceneId);
    // Each engine claims at most 3 × 10 jobs in a tick: all 60 are fired only if the claims are disjoint.
    const a = engine({ batchSize: 10, maxClaimsPerTick: 3 });
    const b = engine({ batchSize: 10, maxClaimsPerTick: 3, dispatcher: portB });
    clock.set(at(1));
    await Promise.all([a.tick(), b.tick()]);
    await Promise.all([a.idle(), b.idle()]);
    const firedA = port.fires.map((f) => f.jobId);
    const firedB = portB.fires.map((f) => f.jobId);
    expect(firedA).toHaveLength(30);
    expect(firedB).toHaveLength(30);
    expect(firedA.filter((id) => firedB.includes(id))).toEqual([]);
    expect([...firedA, ...firedB].sort()).toEqual([...ids].sort());
    expect(await s.prisma.run.count()).toBe(60);
    expect(await s.prisma.job.count({ where: { nextFireAt: at(60) } })).toBe(60);
  });

  it('a replica that dies between the fire and the advance: the next one re-fires, deduped by run id', async () => {
    const id = await seedJob(s, { scheduleType: 'cron', cronExpr: '* * * * * *', nextFireAt: at(10) });
    const dying = engine();
    clock.set(at(10.1));
    await dying.tick();
    // The fire reaches the dispatcher; the advance waits for the next tick, which never comes.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(port.inserted).toEqual([fireRunId(id, at(10))]);
    expect(await nextFireAt(id)).toBe(at(10).toISOString());
    // Its lease (horizon + 2 s) runs out; another replica plans the same instant.
    clock.set(at(12.5));
    const survivor = engine();
    await cycle(survivor);
    await survivor.tick();
    const runs = await runsOf(s.prisma, id);
    expect(iso(runs.map((r) => r.scheduledAt))).toEqual(iso([at(10), at(11), at(12)]));
    expect(port.fires.filter((f) => f.scheduledAt.getTime() === at(10).getTime())).toHaveLength(2);
    expect(runs.every((r) => r.triggerType === 'cron')).toBe(true);
    expect(await nextFireAt(id)).toBe(at(13).toISOString());
  });

  it('misses after an outage follow the policy, late fires within the threshold are ordinary', async () => {
    const base = {
      scheduleType: 'cron' as const,
      cronExpr: '*/10 * * * * *',
      nextFireAt: at(10),
      catchUpLimit: 3,
    };
    const skip = await seedJob(s, { ...base, misfirePolicy: 'skip' });
    const once = await seedJob(s, { ...base, misfirePolicy: 'fire_once_now' });
    const catchUp = await seedJob(s, { ...base, misfirePolicy: 'catch_up' });
    const late = await seedJob(s, { ...base, misfirePolicy: 'skip', nextFireAt: at(60) });
    clock.set(at(63)); // down since 10 s; 60 s is 3 s late (< 5 s threshold)
    await cycle(engine());
    const fired = async (id: string) =>
      (await runsOf(s.prisma, id)).map(
        (r) => `${r.scheduledAt.toISOString().slice(17, 19)}:${r.triggerType}`,
      );
    expect(await fired(skip)).toEqual(['00:cron']); // 00 = the minute's 60 s
    expect(await fired(once)).toEqual(['00:cron']); // the ordinary fire stands for the missed ones
    expect(await fired(catchUp)).toEqual(['30:misfire', '40:misfire', '50:misfire', '00:cron']);
    expect(await fired(late)).toEqual(['00:cron']);
    for (const id of [skip, once, catchUp, late]) expect(await nextFireAt(id)).toBe(at(70).toISOString());
  });

  it('fire_once_now makes one misfire fire when nothing fires on time', async () => {
    const id = await seedJob(s, {
      scheduleType: 'cron',
      cronExpr: '*/10 * * * * *',
      nextFireAt: at(10),
      misfirePolicy: 'fire_once_now',
    });
    clock.set(at(67)); // the last instant (60 s) is 7 s late
    await cycle(engine());
    const runs = await runsOf(s.prisma, id);
    expect(runs.map((r) => [r.scheduledAt.toISOString(), r.triggerType])).toEqual([
      [at(60).toISOString(), 'misfire'],
    ]);
  });
});

describe('restarts', () => {
  it('a replica restarted with the same instance id frees its previous leases at once', async () => {
    const id = await seedJob(s, { scheduleType: 'cron', cronExpr: '*/10 * * * * *', nextFireAt: at(10) });
    const options = {
      prisma: s.prisma,
      dispatcher: port,
      clock,
      logger: memoryLogger(),
      instanceId: 'replica-a',
    };
    const dead = createScheduleEngine({ ...options, lookaheadMs: 5_000 });
    engines.push(dead);
    clock.set(at(7));
    await dead.tick(); // leased until 10 + 2 s, then "killed" before its fire
    expect((await s.prisma.job.findUniqueOrThrow({ where: { id } })).leaseOwner).toMatch(/^replica-a\./);
    clock.set(at(10));
    const restarted = createScheduleEngine({ ...options, tickMs: 20 });
    engines.push(restarted);
    restarted.start();
    const started = Date.now();
    while (port.inserted.length === 0 && Date.now() - started < 5_000)
      await new Promise((r) => setTimeout(r, 20));
    expect(port.inserted).toEqual([fireRunId(id, at(10))]);
    // An engine with another id waits for the lease instead.
    const other = await seedJob(s, { scheduleType: 'cron', cronExpr: '*/10 * * * * *', nextFireAt: at(20) });
    clock.set(at(17));
    await dead.tick();
    clock.set(at(20));
    await cycle(engine());
    expect(iso((await runsOf(s.prisma, other)).map((r) => r.scheduledAt))).toEqual([]);
  });
});

describe('a replica that is behind', () => {
  it('keeps its jobs: the leases of fires it has not finished are renewed, no other replica takes them', async () => {
    const id = await seedJob(s, { scheduleType: 'cron', cronExpr: '*/10 * * * * *', nextFireAt: at(10) });
    let release: () => void = () => undefined;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    port.onFire = () => stuck; // the dispatcher takes a long time
    const slow = engine();
    clock.set(at(10));
    await slow.tick();
    await new Promise((resolve) => setTimeout(resolve, 50)); // the fire is with the dispatcher
    clock.set(at(11.5)); // its lease (until 12) is about to run out
    await slow.tick(); // renews it
    clock.set(at(13));
    const other = recordingDispatcher(s.prisma, s.sceneId);
    await cycle(engine({ dispatcher: other }));
    expect(other.fires).toEqual([]);
    release();
    await slow.idle();
    expect(port.inserted).toEqual([fireRunId(id, at(10))]);
    expect(await nextFireAt(id)).toBe(at(20).toISOString());
  });
});

describe('schedule types and windows', () => {
  it('once fires once then has no next instant; manual never fires', async () => {
    const once = await seedJob(s, { scheduleType: 'once', onceAt: at(30), nextFireAt: at(30) });
    const manual = await seedJob(s, { scheduleType: 'manual', nextFireAt: null });
    const e = engine();
    for (const t of [29, 30, 31, 90]) {
      clock.set(at(t));
      await cycle(e);
    }
    expect(iso((await runsOf(s.prisma, once)).map((r) => r.scheduledAt))).toEqual(iso([at(30)]));
    expect((await runsOf(s.prisma, once))[0]?.triggerType).toBe('once');
    expect(await nextFireAt(once)).toBeNull();
    expect(await runsOf(s.prisma, manual)).toEqual([]);
  });

  it('a fixed rate fires on its grid inside [startAt, endAt) and then stops', async () => {
    const id = await seedJob(s, {
      scheduleType: 'fixed_rate',
      fixedRateMs: 2_500,
      startAt: at(10),
      endAt: at(20),
      nextFireAt: at(10),
    });
    const e = engine();
    for (let t = 9; t <= 25; t += 0.5) {
      clock.set(at(t));
      await cycle(e);
    }
    const runs = await runsOf(s.prisma, id);
    expect(iso(runs.map((r) => r.scheduledAt))).toEqual(iso([at(10), at(12.5), at(15), at(17.5)]));
    expect(runs.every((r) => r.triggerType === 'fixed_rate')).toBe(true);
    expect(await nextFireAt(id)).toBeNull();
  });
});

describe('lifecycle', () => {
  it('pause stops fires and voids planned ones; resume applies the misfire policy to the paused span', async () => {
    const base = {
      scheduleType: 'cron' as const,
      cronExpr: '*/10 * * * * *',
      nextFireAt: at(10),
      catchUpLimit: 2,
    };
    const ids = {
      skip: await seedJob(s, { ...base, misfirePolicy: 'skip' }),
      once: await seedJob(s, { ...base, misfirePolicy: 'fire_once_now' }),
      catchUp: await seedJob(s, { ...base, misfirePolicy: 'catch_up' }),
    };
    const e = createScheduleEngine({
      prisma: s.prisma,
      dispatcher: port,
      clock,
      logger: memoryLogger(),
      lookaheadMs: 5_000,
      tickMs: 100,
    });
    engines.push(e);
    clock.set(at(7));
    await e.tick(); // plans the 10 s fires (lookahead 5 s)
    expect(e.stats().waiting).toBe(3);
    for (const id of Object.values(ids)) await e.pauseJob(id);
    clock.set(at(9.9));
    await e.tick(); // the lease check (of plans firing before the next check) voids them
    expect(e.stats().voided).toBe(3);
    clock.set(at(10.01));
    await e.idle();
    expect(port.fires).toEqual([]);
    for (let t = 15; t <= 55; t += 10) {
      clock.set(at(t));
      await cycle(e);
    }
    expect(port.fires).toEqual([]);
    expect(await nextFireAt(ids.skip)).toBe(at(10).toISOString()); // kept while paused
    clock.set(at(56));
    for (const id of Object.values(ids)) await e.resumeJob(id);
    const fired = async (id: string) =>
      (await runsOf(s.prisma, id)).map((r) => [r.scheduledAt.toISOString(), r.triggerType]);
    expect(await fired(ids.skip)).toEqual([]);
    expect(await fired(ids.once)).toEqual([[at(50).toISOString(), 'misfire']]);
    expect(await fired(ids.catchUp)).toEqual([
      [at(40).toISOString(), 'misfire'],
      [at(50).toISOString(), 'misfire'],
    ]);
    for (const id of Object.values(ids)) expect(await nextFireAt(id)).toBe(at(60).toISOString());
    clock.set(at(60));
    await cycle(e);
    expect(await fired(ids.skip)).toEqual([[at(60).toISOString(), 'cron']]);
  });

  it('disable clears the next instant; enable and recompute start from now without catching up', async () => {
    const id = await seedJob(s, { scheduleType: 'cron', cronExpr: '*/10 * * * * *', nextFireAt: at(10) });
    const e = engine();
    const disabled = await e.disableJob(id);
    expect(disabled.enabled).toBe(false);
    expect(disabled.nextFireAt).toBeNull();
    clock.set(at(45));
    await cycle(e);
    expect(port.fires).toEqual([]);
    const enabled = await e.enableJob(id);
    expect(enabled.nextFireAt?.toISOString()).toBe(at(50).toISOString());
    expect(enabled.version).toBe(3);
    await s.prisma.job.update({ where: { id }, data: { cronExpr: '0 * * * * *' } });
    const recomputed = await e.recompute(id);
    expect(recomputed.nextFireAt?.toISOString()).toBe(at(60).toISOString());
    clock.set(at(60));
    await cycle(e);
    expect(iso((await runsOf(s.prisma, id)).map((r) => r.scheduledAt))).toEqual(iso([at(60)]));
    await expect(e.pauseJob('job_0000000000000000000000000a')).rejects.toMatchObject({
      code: 'JOB_NOT_FOUND',
    });
  });
});

describe('failures', () => {
  it('a retryable failure keeps next_fire_at and fires the instant again after a backoff', async () => {
    const id = await seedJob(s, { scheduleType: 'cron', cronExpr: '*/10 * * * * *', nextFireAt: at(10) });
    let failures = 1;
    port.outcome = () =>
      failures-- > 0 ? { ok: false, retry: true, error: new Error('redis down') } : { ok: true };
    const e = engine();
    clock.set(at(10));
    await cycle(e);
    await e.tick(); // writes the release
    expect(await nextFireAt(id)).toBe(at(10).toISOString());
    clock.set(at(10.5));
    await cycle(e); // backoff: not claimed yet
    expect(port.fires).toHaveLength(1);
    clock.set(at(11.5));
    await cycle(e);
    expect(iso((await runsOf(s.prisma, id)).map((r) => r.scheduledAt))).toEqual(iso([at(10)]));
    expect(await nextFireAt(id)).toBe(at(20).toISOString());
  });

  it('a refused fire (not retryable) moves on; an unreadable schedule stops that job only', async () => {
    const refused = await seedJob(s, {
      scheduleType: 'cron',
      cronExpr: '*/10 * * * * *',
      nextFireAt: at(10),
    });
    const broken = await seedJob(s, { scheduleType: 'cron', cronExpr: '* 99 * * *', nextFireAt: at(10) });
    const fine = await seedJob(s, { scheduleType: 'cron', cronExpr: '*/10 * * * * *', nextFireAt: at(10) });
    port.outcome = (fire) =>
      fire.jobId === refused ? { ok: false, retry: false, error: new Error('job gone') } : { ok: true };
    const e = engine();
    clock.set(at(10));
    await cycle(e);
    expect(await nextFireAt(refused)).toBe(at(20).toISOString());
    expect(await nextFireAt(broken)).toBeNull();
    expect(iso((await runsOf(s.prisma, fine)).map((r) => r.scheduledAt))).toEqual(iso([at(10)]));
  });
});
