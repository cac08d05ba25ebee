import type { z } from 'zod';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_JOB_TIMEOUT_MS,
  isValidTimezone,
  Job,
  JobInput,
  JobPatch,
  JobTriggerInput,
  newId,
  parseWith,
  toErrorBody,
  ValidationError,
} from '@kisjobs/protocol';

const sceneId = newId('scn');

function input(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'daily orders',
    sceneId,
    flowName: 'daily-orders',
    group: 'etl',
    schedule: { type: 'cron', expr: '0 2 * * *', timezone: 'Europe/Berlin' },
    ...overrides,
  };
}

function paths(schema: z.ZodType, value: unknown): string[] {
  const result = parseWith(schema, value);
  if (result.ok) throw new Error('expected a validation failure');
  return result.issues.map((issue) => issue.path);
}

describe('JobInput', () => {
  it('resolves every default from a minimal body', () => {
    const job = JobInput.parse(input({ schedule: { type: 'cron', expr: '*/5 * * * * *' } }));
    expect(job).toEqual({
      name: 'daily orders',
      description: '',
      sceneId,
      flowName: 'daily-orders',
      group: 'etl',
      schedule: { type: 'cron', expr: '*/5 * * * * *', timezone: 'UTC' },
      window: null,
      misfire: { policy: 'skip', catchUpLimit: 100 },
      blockStrategy: 'serial',
      routing: { strategy: 'any' },
      timeoutMs: DEFAULT_JOB_TIMEOUT_MS,
      retry: { attempts: 0, backoff: 'fixed', delayMs: 1_000 },
      params: {},
      childJobIds: [],
      enabled: true,
      alerts: { on: ['failed', 'timed_out', 'lost'], webhook: null, email: null },
    });
  });

  it('validates alert settings by field: webhook url scheme, secret length, email addresses', () => {
    const bad = JobInput.safeParse(
      input({
        alerts: {
          on: ['failed', 'failed'],
          webhook: { url: 'ftp://hooks.example/x', secret: 'short' },
          email: { to: ['not-an-address'] },
        },
      }),
    );
    expect(bad.success).toBe(false);
    const paths = (bad.error?.issues ?? []).map((i) => i.path.join('.')).sort();
    expect(paths).toEqual(['alerts.email.to.0', 'alerts.on', 'alerts.webhook.secret', 'alerts.webhook.url']);
  });

  it('gives each parse its own default objects', () => {
    const a = JobInput.parse(input());
    const b = JobInput.parse(input());
    a.params['x'] = 'y';
    a.childJobIds.push(newId('job'));
    expect(b.params).toEqual({});
    expect(b.childJobIds).toEqual([]);
  });

  it('accepts every schedule type', () => {
    for (const schedule of [
      { type: 'fixed_rate', everyMs: 100 },
      { type: 'once', at: '2026-05-01T08:00:00+08:00' },
      { type: 'manual' },
      { type: 'cron', expr: ' 0  2 * * 1-5 ', timezone: 'America/New_York' },
    ]) {
      expect({ schedule, ok: JobInput.safeParse(input({ schedule })).success }).toEqual({
        schedule,
        ok: true,
      });
    }
  });

  it('a bad timezone names schedule.timezone', () => {
    expect(
      paths(JobInput, input({ schedule: { type: 'cron', expr: '0 2 * * *', timezone: 'Mars/Olympus' } })),
    ).toEqual(['schedule.timezone']);
    expect(isValidTimezone('UTC')).toBe(true);
    expect(isValidTimezone('Asia/Shanghai')).toBe(true);
    expect(isValidTimezone('+08:00')).toBe(false);
    expect(isValidTimezone('')).toBe(false);
  });

  it('lets a cron alias through to the scheduler, which knows which ones exist', () => {
    expect(JobInput.parse(input({ schedule: { type: 'cron', expr: '@daily' } })).schedule).toMatchObject({
      expr: '@daily',
    });
    expect(paths(JobInput, input({ schedule: { type: 'cron', expr: '@ daily' } }))).toEqual([
      'schedule.expr',
    ]);
  });

  it('checks the shape of a cron expression: 5 or 6 fields', () => {
    for (const expr of ['', '* * * *', '0 0 0 * * * *']) {
      expect(paths(JobInput, input({ schedule: { type: 'cron', expr } }))).toEqual(['schedule.expr']);
    }
  });

  it('fixed_rate needs everyMs >= 100; once needs an instant; unknown types name schedule.type', () => {
    expect(paths(JobInput, input({ schedule: { type: 'fixed_rate', everyMs: 99 } }))).toEqual([
      'schedule.everyMs',
    ]);
    expect(paths(JobInput, input({ schedule: { type: 'once', at: 'tomorrow' } }))).toEqual(['schedule.at']);
    expect(paths(JobInput, input({ schedule: { type: 'hourly' } }))).toEqual(['schedule.type']);
  });

  it('pinned routing needs an executor, named at routing.executorInstanceId', () => {
    expect(paths(JobInput, input({ routing: { strategy: 'pinned' } }))).toEqual([
      'routing.executorInstanceId',
    ]);
    const pinned = JobInput.parse(
      input({ routing: { strategy: 'pinned', executorInstanceId: 'host-1-4123' } }),
    );
    expect(pinned.routing).toEqual({ strategy: 'pinned', executorInstanceId: 'host-1-4123' });
    expect(paths(JobInput, input({ routing: { strategy: 'any', executorInstanceId: 'host-1' } }))).toEqual([
      'routing.executorInstanceId',
    ]);
    expect(paths(JobInput, input({ routing: { strategy: 'failover', key: 'tenant' } }))).toEqual([
      'routing.key',
    ]);
    expect(
      JobInput.safeParse(input({ routing: { strategy: 'consistent_hash', key: 'tenant' } })).success,
    ).toBe(true);
  });

  it('a window must end after it starts, named at window.endAt', () => {
    const window = { startAt: '2026-05-01T00:00:00Z', endAt: '2026-05-01T08:00:00+08:00' };
    expect(paths(JobInput, input({ window }))).toEqual(['window.endAt']);
    expect(
      JobInput.safeParse(input({ window: { ...window, endAt: '2026-05-01T08:00:01+08:00' } })).success,
    ).toBe(true);
    expect(JobInput.safeParse(input({ window: { startAt: '2026-05-01T00:00:00Z' } })).success).toBe(true);
  });

  it('bounds retry, misfire, timeout and children', () => {
    expect(paths(JobInput, input({ retry: { attempts: 21 } }))).toEqual(['retry.attempts']);
    expect(paths(JobInput, input({ retry: { attempts: 3, backoff: 'linear' } }))).toEqual(['retry.backoff']);
    expect(paths(JobInput, input({ misfire: { policy: 'catch_up', catchUpLimit: 1_001 } }))).toEqual([
      'misfire.catchUpLimit',
    ]);
    expect(paths(JobInput, input({ timeoutMs: 0 }))).toEqual(['timeoutMs']);
    const child = newId('job');
    expect(paths(JobInput, input({ childJobIds: [child, child] }))).toEqual(['childJobIds']);
    expect(paths(JobInput, input({ childJobIds: ['job-1'] }))).toEqual(['childJobIds[0]']);
    expect(paths(JobInput, input({ params: { batch: 500 } }))).toEqual(['params.batch']);
  });

  it('reports unknown fields instead of ignoring a typo', () => {
    expect(paths(JobInput, input({ enable: false }))).toEqual(['enable']);
    expect(paths(JobInput, input({ retry: { attempt: 3 } }))).toEqual(['retry.attempt']);
  });

  it('missing required fields are each named', () => {
    expect(paths(JobInput, {}).sort()).toEqual(['flowName', 'group', 'name', 'sceneId', 'schedule']);
  });

  it('fits the API error body', () => {
    const result = parseWith(JobInput, input({ routing: { strategy: 'pinned' } }));
    if (result.ok) throw new Error('expected failure');
    expect(toErrorBody(new ValidationError(result.issues)).error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'routing.executorInstanceId: The pinned strategy needs an executorInstanceId',
    });
  });
});

describe('JobPatch', () => {
  it('fills no defaults: fields left out stay out', () => {
    expect(JobPatch.parse({})).toEqual({});
    expect(JobPatch.parse({ name: 'renamed' })).toEqual({ name: 'renamed' });
    expect(JobPatch.parse({ enabled: false })).toEqual({ enabled: false });
  });

  it('validates what it holds, with the same paths', () => {
    expect(paths(JobPatch, { routing: { strategy: 'pinned' } })).toEqual(['routing.executorInstanceId']);
    expect(
      paths(JobPatch, { schedule: { type: 'cron', expr: '0 2 * * *', timezone: 'Nowhere/City' } }),
    ).toEqual(['schedule.timezone']);
    expect(paths(JobPatch, { enabled: 'yes' })).toEqual(['enabled']);
    expect(paths(JobPatch, { nextFireAt: null })).toEqual(['nextFireAt']);
  });

  it('clears the window with null', () => {
    expect(JobPatch.parse({ window: null })).toEqual({ window: null });
  });
});

describe('Job and JobTriggerInput', () => {
  it('a stored job is the resolved input plus id and timestamps', () => {
    const job = {
      ...JobInput.parse(input()),
      id: newId('job'),
      alerts: { on: ['failed', 'timed_out', 'lost'], webhook: null, email: null },
      paused: false,
      version: 1,
      lastFireAt: null,
      nextFireAt: '2026-05-02T00:00:00.000Z',
      createdAt: '2026-05-01T00:00:00.000Z',
      updatedAt: '2026-05-01T00:00:00.000Z',
    };
    expect(Job.parse(job)).toEqual(job);
  });

  it('trigger params are strings', () => {
    expect(JobTriggerInput.parse({})).toEqual({ params: {} });
    expect(paths(JobTriggerInput, { params: { date: 20260501 } })).toEqual(['params.date']);
  });
});
