import { describe, expect, it } from 'vitest';
import { fireTimesAfter, type FireQuery } from '../src/schedule/next-fire.js';
import { planDueFires, type MisfirePolicy } from '../src/schedule/misfire.js';

const d = (s: string): Date => new Date(s);
const iso = (xs: readonly Date[]): string[] => xs.map((x) => x.toISOString());
const anchor = d('2026-01-01T00:00:00Z');

describe('fireTimesAfter', () => {
  it('fixed_rate fires on the anchor grid', () => {
    const q: FireQuery = { schedule: { type: 'fixed_rate', everyMs: 1_000 }, anchor };
    expect(iso(fireTimesAfter(q, d('2026-01-01T00:00:02.500Z'), 3))).toEqual([
      '2026-01-01T00:00:03.000Z',
      '2026-01-01T00:00:04.000Z',
      '2026-01-01T00:00:05.000Z',
    ]);
    expect(iso(fireTimesAfter(q, d('2025-12-31T23:59:59Z'), 1))).toEqual(['2026-01-01T00:00:00.000Z']);
  });

  it('respects the window [startAt, endAt) for every type', () => {
    const window = { startAt: d('2026-01-01T00:00:10Z'), endAt: d('2026-01-01T00:00:13Z') };
    const rate: FireQuery = { schedule: { type: 'fixed_rate', everyMs: 1_000 }, anchor, window };
    expect(iso(fireTimesAfter(rate, d('2026-01-01T00:00:00Z'), 10))).toEqual([
      '2026-01-01T00:00:10.000Z',
      '2026-01-01T00:00:11.000Z',
      '2026-01-01T00:00:12.000Z',
    ]);
    const cron: FireQuery = {
      schedule: { type: 'cron', expr: '* * * * * *', timezone: 'UTC' },
      anchor,
      window,
    };
    expect(iso(fireTimesAfter(cron, d('2026-01-01T00:00:00Z'), 10))).toEqual([
      '2026-01-01T00:00:10.000Z',
      '2026-01-01T00:00:11.000Z',
      '2026-01-01T00:00:12.000Z',
    ]);
    const once: FireQuery = { schedule: { type: 'once', at: d('2026-01-01T00:00:30Z') }, anchor, window };
    expect(fireTimesAfter(once, d('2026-01-01T00:00:00Z'), 10)).toEqual([]);
    // The end is exclusive: a once job exactly at endAt does not fire.
    const atEnd: FireQuery = { schedule: { type: 'once', at: d('2026-01-01T00:00:13Z') }, anchor, window };
    expect(fireTimesAfter(atEnd, d('2026-01-01T00:00:00Z'), 10)).toEqual([]);
  });

  it('once fires once, manual never', () => {
    const once: FireQuery = { schedule: { type: 'once', at: d('2026-05-01T00:00:00Z') }, anchor };
    expect(iso(fireTimesAfter(once, anchor, 5))).toEqual(['2026-05-01T00:00:00.000Z']);
    expect(fireTimesAfter(once, d('2026-05-01T00:00:00Z'), 5)).toEqual([]);
    expect(fireTimesAfter({ schedule: { type: 'manual' }, anchor }, anchor, 5)).toEqual([]);
  });
});

describe('planDueFires', () => {
  // Every 10 s; the scheduler was down from 00:00:05 to 00:01:07 (every fire since 00:00:10 is >5 s late).
  const query: FireQuery = { schedule: { type: 'cron', expr: '*/10 * * * * *', timezone: 'UTC' }, anchor };
  const plan = (policy: MisfirePolicy, catchUpLimit = 100) =>
    planDueFires({
      query,
      policy,
      nextFireAt: d('2026-01-01T00:00:10Z'),
      now: d('2026-01-01T00:01:07Z'),
      thresholdMs: 5_000,
      catchUpLimit,
    });

  it('skip drops every missed fire and resumes at the next one', () => {
    const p = plan('skip');
    expect(p.fires).toEqual([]);
    expect(p.skipped).toBe(6);
    expect(p.nextFireAt?.toISOString()).toBe('2026-01-01T00:01:10.000Z');
  });

  it('fire_once_now makes one misfire run for the lot', () => {
    const p = plan('fire_once_now');
    expect(p.fires).toEqual([{ scheduledAt: d('2026-01-01T00:01:00Z'), misfire: true }]);
    expect(p.skipped).toBe(5);
  });

  it('catch_up makes every missed fire, bounded by the limit (newest kept)', () => {
    expect(iso(plan('catch_up').fires.map((f) => f.scheduledAt))).toEqual([
      '2026-01-01T00:00:10.000Z',
      '2026-01-01T00:00:20.000Z',
      '2026-01-01T00:00:30.000Z',
      '2026-01-01T00:00:40.000Z',
      '2026-01-01T00:00:50.000Z',
      '2026-01-01T00:01:00.000Z',
    ]);
    const bounded = plan('catch_up', 2);
    expect(iso(bounded.fires.map((f) => f.scheduledAt))).toEqual([
      '2026-01-01T00:00:50.000Z',
      '2026-01-01T00:01:00.000Z',
    ]);
    expect(bounded.skipped).toBe(4);
    expect(bounded.fires.every((f) => f.misfire)).toBe(true);
  });

  it('a fire within the threshold is a normal fire, not a misfire', () => {
    const p = planDueFires({
      query,
      policy: 'skip',
      nextFireAt: d('2026-01-01T00:01:00Z'),
      now: d('2026-01-01T00:01:00.300Z'),
      thresholdMs: 5_000,
      catchUpLimit: 10,
    });
    expect(p.fires).toEqual([{ scheduledAt: d('2026-01-01T00:01:00Z'), misfire: false }]);
    expect(p.nextFireAt?.toISOString()).toBe('2026-01-01T00:01:10.000Z');
  });

  it('nothing is due before nextFireAt', () => {
    const p = planDueFires({
      query,
      policy: 'catch_up',
      nextFireAt: d('2026-01-01T00:02:00Z'),
      now: d('2026-01-01T00:01:00Z'),
      thresholdMs: 5_000,
      catchUpLimit: 10,
    });
    expect(p).toEqual({ fires: [], skipped: 0, nextFireAt: d('2026-01-01T00:02:00Z') });
  });

  it('bounds the enumeration of a very long outage', () => {
    const everySecond: FireQuery = { schedule: { type: 'fixed_rate', everyMs: 1_000 }, anchor };
    const p = planDueFires({
      query: everySecond,
      policy: 'skip',
      nextFireAt: anchor,
      now: d('2026-02-01T00:00:00Z'),
      thresholdMs: 5_000,
      catchUpLimit: 10,
    });
    // The 5 s within the threshold are ordinary (late) fires; the month before them is skipped.
    expect(iso(p.fires.map((f) => f.scheduledAt))).toEqual([
      '2026-01-31T23:59:55.000Z',
      '2026-01-31T23:59:56.000Z',
      '2026-01-31T23:59:57.000Z',
      '2026-01-31T23:59:58.000Z',
      '2026-01-31T23:59:59.000Z',
      '2026-02-01T00:00:00.000Z',
    ]);
    expect(p.skipped).toBe(31 * 86_400 - 5);
    expect(p.nextFireAt?.toISOString()).toBe('2026-02-01T00:00:01.000Z');
  });
});
