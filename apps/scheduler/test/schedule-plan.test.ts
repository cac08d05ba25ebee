/**
 * Pure parts of the schedule engine: planning with a lookahead horizon, bounded enumeration of long
 * outages, schedule parsing and its messages, preview, the fire timeline and the trigger adapter.
 */
import { describe, expect, it } from 'vitest';
import { KisJobsError, NotFoundError, ValidationError } from '@kisjobs/protocol';
import { cronFireTimes } from '../src/schedule/cron.js';
import { fireThroughTrigger, type TriggerPort } from '../src/schedule/fire-port.js';
import { FireTimeline } from '../src/schedule/fire-timeline.js';
import { parseSchedule, scheduleColumns, scheduleOfRow } from '../src/schedule/job-schedule.js';
import { planDueFires } from '../src/schedule/misfire.js';
import { lastFireTimesBetween, type FireQuery } from '../src/schedule/next-fire.js';
import { previewSchedule } from '../src/schedule/preview.js';

const d = (s: string): Date => new Date(s);
const iso = (xs: readonly Date[]): string[] => xs.map((x) => x.toISOString());
const anchor = d('2026-01-01T00:00:00Z');
const everySecond: FireQuery = { schedule: { type: 'cron', expr: '* * * * * *', timezone: 'UTC' }, anchor };

describe('planDueFires with a horizon', () => {
  it('plans the instants up to the horizon as ordinary fires and continues after it', () => {
    const p = planDueFires({
      query: everySecond,
      policy: 'skip',
      nextFireAt: d('2026-01-01T00:00:10Z'),
      now: d('2026-01-01T00:00:10.100Z'),
      horizon: d('2026-01-01T00:00:12.100Z'),
      thresholdMs: 5_000,
      catchUpLimit: 10,
    });
    expect(p.fires.map((f) => [f.scheduledAt.toISOString(), f.misfire])).toEqual([
      ['2026-01-01T00:00:10.000Z', false],
      ['2026-01-01T00:00:11.000Z', false],
      ['2026-01-01T00:00:12.000Z', false],
    ]);
    expect(p.nextFireAt?.toISOString()).toBe('2026-01-01T00:00:13.000Z');
  });

  it('a stored next instant off the grid (an edited schedule) is a lower bound, not a fire', () => {
    const p = planDueFires({
      query: { schedule: { type: 'cron', expr: '*/10 * * * * *', timezone: 'UTC' }, anchor },
      policy: 'catch_up',
      nextFireAt: d('2026-01-01T00:00:03Z'),
      now: d('2026-01-01T00:00:10Z'),
      thresholdMs: 5_000,
      catchUpLimit: 10,
    });
    expect(iso(p.fires.map((f) => f.scheduledAt))).toEqual(['2026-01-01T00:00:10.000Z']);
  });

  it('catch_up keeps the newest missed instants of a year-long outage, with bounded work', () => {
    const started = performance.now();
    const p = planDueFires({
      query: everySecond,
      policy: 'catch_up',
      nextFireAt: d('2025-01-01T00:00:00Z'),
      now: d('2026-01-01T00:00:00Z'),
      thresholdMs: 0,
      catchUpLimit: 3,
    });
    expect(iso(p.fires.map((f) => f.scheduledAt))).toEqual([
      '2025-12-31T23:59:57.000Z',
      '2025-12-31T23:59:58.000Z',
      '2025-12-31T23:59:59.000Z',
      '2026-01-01T00:00:00.000Z',
    ]);
    expect(p.fires.map((f) => f.misfire)).toEqual([true, true, true, false]);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('lastFireTimesBetween', () => {
  it('cron: the latest instants of [from, to), across a DST change, with an exact count when cheap', () => {
    const q: FireQuery = {
      schedule: { type: 'cron', expr: '30 * * * *', timezone: 'America/New_York' },
      anchor,
    };
    // 2026-11-01: 01:30 EDT and 01:30 EST are both real instants of an hourly-at-:30 schedule.
    const r = lastFireTimesBetween(q, d('2026-11-01T04:00:00Z'), d('2026-11-01T08:00:00Z'), 10);
    expect(iso(r.last)).toEqual([
      '2026-11-01T04:30:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T06:30:00.000Z',
      '2026-11-01T07:30:00.000Z',
    ]);
    expect(r).toMatchObject({ count: 4, exact: true });
  });

  it('fixed_rate: arithmetic, exact over any span, honouring the window end', () => {
    const q: FireQuery = {
      schedule: { type: 'fixed_rate', everyMs: 1_000 },
      anchor,
      window: { endAt: d('2026-01-01T00:00:10Z') },
    };
    const r = lastFireTimesBetween(q, d('2025-01-01T00:00:00Z'), d('2027-01-01T00:00:00Z'), 2);
    expect(iso(r.last)).toEqual(['2026-01-01T00:00:08.000Z', '2026-01-01T00:00:09.000Z']);
    expect(r).toMatchObject({ count: 10, exact: true });
  });
});

describe('cron expression cache', () => {
  it('gives the same instants whatever was asked before (a shared parsed expression is reset)', () => {
    const first = cronFireTimes('0 30 2 * * *', 'Europe/Berlin', d('2026-03-28T12:00:00Z'), 2);
    cronFireTimes('0 30 2 * * *', 'Europe/Berlin', d('2030-01-01T00:00:00Z'), 5);
    expect(cronFireTimes('0 30 2 * * *', 'Europe/Berlin', d('2026-03-28T12:00:00Z'), 2)).toEqual(first);
    expect(iso(first)).toEqual(['2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z']);
  });
});

describe('parseSchedule and preview', () => {
  const issuesOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      if (error instanceof ValidationError) return { code: error.code, issues: error.issues };
      throw error;
    }
    throw new Error('expected a ValidationError');
  };

  it.each([
    [{ type: 'cron', expr: '0 25 * * *' }, 'CRON_INVALID', 'schedule.expr', /hour field '25'.*0-23/],
    [{ type: 'cron', expr: '0 0 * * 1#6' }, 'CRON_INVALID', 'schedule.expr', /day of week field '1#6'/],
    [{ type: 'cron', expr: '* * *' }, 'VALIDATION_FAILED', 'schedule.expr', /5 fields/],
    [{ type: 'cron', expr: '@fortnightly' }, 'CRON_INVALID', 'schedule.expr', /./],
    [
      { type: 'cron', expr: '* * * * *', timezone: 'Mars/Base' },
      'VALIDATION_FAILED',
      'schedule.timezone',
      /time zone/,
    ],
    [{ type: 'fixed_rate', everyMs: 5 }, 'VALIDATION_FAILED', 'schedule.everyMs', />=100/],
    [{ type: 'once', at: 'tomorrow' }, 'VALIDATION_FAILED', 'schedule.at', /datetime/i],
    [{ type: 'hourly' }, 'VALIDATION_FAILED', 'schedule.type', /cron|expected/i],
  ])('rejects %j naming the field', (schedule, code, path, message) => {
    const { code: got, issues } = issuesOf(() => parseSchedule({ schedule }));
    expect(got).toBe(code);
    expect(issues[0]?.path).toBe(path);
    expect(issues[0]?.message).toMatch(message);
  });

  it('accepts the cron aliases the API accepts (@hourly fires every hour on the hour)', () => {
    expect(() => parseSchedule({ schedule: { type: 'cron', expr: '@hourly' } })).not.toThrow();
    const fires = cronFireTimes('@hourly', 'UTC', d('2026-03-28T12:10:00Z'), 2);
    expect(iso(fires)).toEqual(['2026-03-28T13:00:00.000Z', '2026-03-28T14:00:00.000Z']);
  });

  it('names a window problem and nests paths under a prefix', () => {
    const { issues } = issuesOf(() =>
      parseSchedule(
        {
          schedule: { type: 'cron', expr: '* * * * *' },
          window: { startAt: '2026-01-02T00:00:00Z', endAt: '2026-01-01T00:00:00Z' },
        },
        ['body'],
      ),
    );
    expect(issues).toEqual([{ path: 'body.window.endAt', message: 'endAt must be after startAt' }]);
  });

  it('previews an expression in its time zone, across spring-forward', () => {
    const next = previewSchedule(
      { schedule: { type: 'cron', expr: '30 2 * * *', timezone: 'America/New_York' } },
      d('2026-03-07T12:00:00Z'),
      3,
    );
    expect(iso(next)).toEqual([
      '2026-03-08T07:30:00.000Z',
      '2026-03-09T06:30:00.000Z',
      '2026-03-10T06:30:00.000Z',
    ]);
  });

  it('previews a fixed rate from its window start, and bounds the count', () => {
    const schedule = { type: 'fixed_rate', everyMs: 90_000 };
    const window = { startAt: '2026-01-01T00:00:00Z' };
    expect(iso(previewSchedule({ schedule, window }, d('2026-01-01T00:02:00Z'), 2))).toEqual([
      '2026-01-01T00:03:00.000Z',
      '2026-01-01T00:04:30.000Z',
    ]);
    expect(issuesOf(() => previewSchedule({ schedule }, anchor, 5_000)).issues[0]?.path).toBe('count');
  });

  it('maps API schedules to columns and back', () => {
    const parsed = parseSchedule({
      schedule: { type: 'once', at: '2026-05-01T10:00:00+02:00' },
      window: { endAt: '2026-06-01T00:00:00Z' },
    });
    const columns = scheduleColumns(parsed.schedule, parsed.window);
    expect(columns).toMatchObject({ scheduleType: 'once', onceAt: d('2026-05-01T08:00:00Z'), startAt: null });
    expect(scheduleOfRow({ id: 'job_x', ...columns, createdAt: anchor })).toEqual({
      schedule: { type: 'once', at: '2026-05-01T08:00:00.000Z' },
      window: { endAt: '2026-06-01T00:00:00.000Z' },
    });
  });
});

describe('FireTimeline', () => {
  it('hands out due entries earliest first and keeps the rest', () => {
    const t = new FireTimeline<{ at: number; n: number }>();
    for (const [at, n] of [
      [50, 1],
      [10, 2],
      [30, 3],
      [10, 4],
      [70, 5],
      [20, 6],
    ])
      t.add({ at: at ?? 0, n: n ?? 0 });
    expect(t.takeDue(30, 10).map((e) => e.at)).toEqual([10, 10, 20, 30]);
    expect(t.peekAt()).toBe(50);
    expect(t.removeWhere((e) => e.n === 1).map((e) => e.n)).toEqual([1]);
    expect(t.takeDue(1_000, 10).map((e) => e.n)).toEqual([5]);
    expect(t.size).toBe(0);
  });
});

describe('fireThroughTrigger', () => {
  const at = (s: number) => new Date(anchor.getTime() + s * 1000);

  it('triggers each fire as the scheduler, one job in instant order, and maps errors to outcomes', async () => {
    const calls: string[] = [];
    const port: TriggerPort = {
      async trigger(jobId, input) {
        calls.push(
          `${jobId}@${input.scheduledAt?.toISOString().slice(17, 19)}:${input.triggerType}:${input.triggeredBy}`,
        );
        if (jobId === 'job_gone') throw new NotFoundError('job', jobId);
        if (jobId === 'job_flaky') throw new KisJobsError('INTERNAL', 'redis down');
        return { runIds: [] };
      },
    };
    const outcomes = await fireThroughTrigger(port, { concurrency: 2 }).fire([
      { jobId: 'job_a', scheduledAt: at(1), triggerType: 'cron' },
      { jobId: 'job_gone', scheduledAt: at(1), triggerType: 'cron' },
      { jobId: 'job_flaky', scheduledAt: at(1), triggerType: 'misfire' },
      { jobId: 'job_a', scheduledAt: at(2), triggerType: 'cron' },
      { jobId: 'job_flaky', scheduledAt: at(2), triggerType: 'cron' },
    ]);
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.retry ? 'retry' : 'final'))).toEqual([
      'ok',
      'final',
      'retry',
      'ok',
      'retry',
    ]);
    expect(calls.filter((c) => c.startsWith('job_a'))).toEqual([
      'job_a@01:cron:scheduler',
      'job_a@02:cron:scheduler',
    ]);
    // After a fire to retry, the job's later fires are not attempted (they would jump the queue).
    expect(calls.filter((c) => c.startsWith('job_flaky'))).toEqual(['job_flaky@01:misfire:scheduler']);
  });
});
