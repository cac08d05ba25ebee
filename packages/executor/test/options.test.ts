import { describe, expect, it } from 'vitest';
import { InstanceId, ValidationError } from '@kisjobs/protocol';
import { defaultInstanceId, resolveExecutorOptions, type ExecutorOptions } from '../src/index.js';

const valid: ExecutorOptions = {
  redisUrl: 'redis://127.0.0.1:6379',
  group: 'etl',
  token: 'kjs_0123456789abcdef',
  functions: '/srv/fns.js',
};

describe('executor options', () => {
  it('resolves defaults once, with durations in ms', () => {
    const o = resolveExecutorOptions(valid);
    expect(o).toMatchObject({
      concurrency: 10,
      drainTimeoutMs: 30_000,
      cancelGraceMs: 500,
      heartbeatIntervalMs: 2_000,
      heartbeatTtlMs: 6_000,
      lockDurationMs: 10_000,
      stalledIntervalMs: 5_000,
      logFlushIntervalMs: 100,
      logBatchLines: 500,
      runLogLevel: 'info',
      tokenSource: 'the token option',
      functionsUrl: 'file:///srv/fns.js',
      pid: process.pid,
      version: '0.1.0',
    });
    expect(o.keyspace.bullPrefix).toBe('{kisjobs}');
    expect(InstanceId.safeParse(o.instanceId).success).toBe(true);
    expect(o.instanceId).toContain(`-${process.pid}-`);
  });

  it('names every bad option', () => {
    let error: unknown;
    try {
      resolveExecutorOptions({
        ...valid,
        redisUrl: 'http://x',
        group: 'Bad Group',
        token: 'short',
        concurrency: 0,
        colour: 'blue',
      } as ExecutorOptions);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path).sort()).toEqual(
      ['colour', 'concurrency', 'group', 'redisUrl', 'token'].sort(),
    );
    expect((error as ValidationError).message).toMatch(/^invalid executor options: /);
  });

  it('wants the heartbeat TTL longer than its interval', () => {
    expect(() =>
      resolveExecutorOptions({ ...valid, heartbeatIntervalMs: 1_000, heartbeatTtlMs: 1_000 }),
    ).toThrow(/heartbeatTtlMs: must be longer than heartbeatIntervalMs/);
  });

  it('makes a valid instance id out of any host name', () => {
    for (const host of ['my_host.example.com', '-weird host!', '', 'x'.repeat(300)]) {
      expect(InstanceId.safeParse(defaultInstanceId(host, 42)).success).toBe(true);
    }
  });
});
