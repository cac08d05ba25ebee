import { describe, expect, it } from 'vitest';
import { checkCron, cronFireTimes } from '../src/schedule/cron.js';

const iso = (dates: Date[]): string[] => dates.map((d) => d.toISOString());
const fires = (expr: string, tz: string, after: string, n: number): string[] =>
  iso(cronFireTimes(expr, tz, new Date(after), n));

describe('cron fire times', () => {
  it.each([
    // [name, expr, tz, after, expected instants]
    // America/New_York spring forward: 2026-03-08 02:00 EST -> 03:00 EDT.
    [
      'NY spring: fixed 02:30 fires once, shifted an hour',
      '30 2 * * *',
      'America/New_York',
      '2026-03-07T12:00:00Z',
      ['2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z'],
    ],
    [
      'NY spring: hourly skips the missing hour, no double fire',
      '0 * * * *',
      'America/New_York',
      '2026-03-08T05:30:00Z',
      ['2026-03-08T06:00:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-08T08:00:00.000Z'],
    ],
    [
      'NY spring: 02:30 and 03:30 collapse to one fire at 03:30',
      '30 2,3 * * *',
      'America/New_York',
      '2026-03-08T05:00:00Z',
      ['2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z'],
    ],
    // America/New_York fall back: 2026-11-01 02:00 EDT -> 01:00 EST; 01:xx happens twice.
    [
      'NY fall: fixed 01:30 fires once (first occurrence)',
      '30 1 * * *',
      'America/New_York',
      '2026-10-31T12:00:00Z',
      ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'],
    ],
    [
      'NY fall: every 30 min follows real time through both 01:xx',
      '*/30 * * * *',
      'America/New_York',
      '2026-11-01T04:50:00Z',
      [
        '2026-11-01T05:00:00.000Z',
        '2026-11-01T05:30:00.000Z',
        '2026-11-01T06:00:00.000Z',
        '2026-11-01T06:30:00.000Z',
        '2026-11-01T07:00:00.000Z',
      ],
    ],
    // Europe/Berlin: spring 2026-03-29 02:00 -> 03:00; fall 2026-10-25 03:00 -> 02:00.
    [
      'Berlin spring: 02:30:00 (6 fields) fires once',
      '0 30 2 * * *',
      'Europe/Berlin',
      '2026-03-28T12:00:00Z',
      ['2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z'],
    ],
    [
      'Berlin fall: 02:30 fires once',
      '0 30 2 * * *',
      'Europe/Berlin',
      '2026-10-24T12:00:00Z',
      ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'],
    ],
    [
      'Berlin: midnight local is 23:00 UTC in winter',
      '0 0 * * *',
      'Europe/Berlin',
      '2026-01-10T00:00:00Z',
      ['2026-01-10T23:00:00.000Z', '2026-01-11T23:00:00.000Z'],
    ],
    [
      'Feb 29 only in leap years',
      '0 0 29 2 *',
      'UTC',
      '2026-01-01T00:00:00Z',
      ['2028-02-29T00:00:00.000Z', '2032-02-29T00:00:00.000Z'],
    ],
    [
      '31st skips short months',
      '0 0 31 * *',
      'UTC',
      '2026-01-01T00:00:00Z',
      ['2026-01-31T00:00:00.000Z', '2026-03-31T00:00:00.000Z', '2026-05-31T00:00:00.000Z'],
    ],
    [
      'L = last day of month, Feb included',
      '0 12 L * *',
      'UTC',
      '2026-01-15T00:00:00Z',
      ['2026-01-31T12:00:00.000Z', '2026-02-28T12:00:00.000Z', '2026-03-31T12:00:00.000Z'],
    ],
    ['L in a leap year', '0 0 L 2 *', 'UTC', '2027-06-01T00:00:00Z', ['2028-02-29T00:00:00.000Z']],
    [
      '5L = last Friday',
      '0 0 * * 5L',
      'UTC',
      '2026-01-01T00:00:00Z',
      ['2026-01-30T00:00:00.000Z', '2026-02-27T00:00:00.000Z'],
    ],
    [
      '1#2 = second Monday',
      '0 0 * * 1#2',
      'UTC',
      '2026-01-01T00:00:00Z',
      ['2026-01-12T00:00:00.000Z', '2026-02-09T00:00:00.000Z'],
    ],
    [
      'seconds field',
      '*/15 * * * * *',
      'UTC',
      '2026-01-01T00:00:00Z',
      ['2026-01-01T00:00:15.000Z', '2026-01-01T00:00:30.000Z', '2026-01-01T00:00:45.000Z'],
    ],
    [
      'Asia/Kolkata half-hour offset',
      '0 9 * * *',
      'Asia/Kolkata',
      '2026-01-01T00:00:00Z',
      ['2026-01-01T03:30:00.000Z'],
    ],
  ])('%s', (_name, expr, tz, after, expected) => {
    expect(fires(expr, tz, after, expected.length)).toEqual(expected);
  });

  it('returns strictly later instants and honours the until bound', () => {
    const after = new Date('2026-01-01T00:00:00Z');
    expect(
      cronFireTimes('0 0 * * *', 'UTC', after, 10, new Date('2026-01-03T00:00:00Z')).map((d) =>
        d.toISOString(),
      ),
    ).toEqual(['2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z']);
    expect(
      cronFireTimes('* * * * * *', 'UTC', new Date('2026-01-01T00:00:00.500Z'), 1)[0]?.toISOString(),
    ).toBe('2026-01-01T00:00:01.000Z');
  });
});

describe('checkCron', () => {
  it.each([
    ['*/5 * * * *', 'UTC', true],
    ['0 */5 * * * *', 'Europe/Berlin', true],
    ['@hourly', 'UTC', true],
    ['0 0 ? * MON', 'UTC', true],
  ])('accepts %s in %s', (expr, tz, ok) => {
    expect(checkCron(expr, tz).ok).toBe(ok);
  });

  it.each([
    ['61 * * * *', 'UTC', 'expr', /minute field '61'.*range 0-59/],
    ['* 25 * * *', 'UTC', 'expr', /hour field '25'.*range 0-23/],
    ['0 0 30 2 *', 'UTC', 'expr', /day of month/i],
    ['*/0 * * * *', 'UTC', 'expr', /minute field '\*\/0'/],
    ['0 0 * * 1#6', 'UTC', 'expr', /day of week field '1#6'/],
    ['a * * * *', 'UTC', 'expr', /minute field 'a'.*Invalid characters/],
    ['* * * *', 'UTC', 'expr', /expected 5 fields.*got 4/],
    ['* * * * * * *', 'UTC', 'expr', /got 7/],
    ['', 'UTC', 'expr', /got 0/],
    ['* * * * *', 'Mars/Base', 'timezone', /unknown IANA time zone 'Mars\/Base'/],
  ])('rejects %s (%s) naming %s', (expr, tz, field, message) => {
    const result = checkCron(expr, tz);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.field).toBe(field);
    expect(result.message).toMatch(message);
  });
});
