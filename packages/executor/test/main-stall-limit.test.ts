/**
 * `mainStallLimitMs` (how long the heartbeat thread keeps beating without a sign of life from the main event
 * loop): its default and bounds as an SDK option, and as a setting of the runnable.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '@kisjobs/protocol';
import { parseExecutorSettings } from '../src/bin/env.js';
import { resolveExecutorOptions, type ExecutorOptions } from '../src/index.js';

const valid: ExecutorOptions = {
  redisUrl: 'redis://127.0.0.1:6379',
  group: 'etl',
  token: 'kjs_0123456789abcdef',
  functions: '/srv/fns.js',
};
const TOKEN = 'kjs_0123456789abcdef0123';
const io = { cwd: '/srv/app', exists: () => true };
const env = { KISJOBS_GROUP: 'etl', KISJOBS_FUNCTIONS: './fns.js', KISJOBS_TOKEN: TOKEN };

describe('mainStallLimitMs', () => {
  it('defaults to 30 s and takes 1 s to a day', () => {
    expect(resolveExecutorOptions(valid).mainStallLimitMs).toBe(30_000);
    expect(resolveExecutorOptions({ ...valid, mainStallLimitMs: 1_000 }).mainStallLimitMs).toBe(1_000);
    for (const bad of [999, 86_400_001, 1.5]) {
      expect(() => resolveExecutorOptions({ ...valid, mainStallLimitMs: bad })).toThrow(ValidationError);
    }
    expect(() => resolveExecutorOptions({ ...valid, mainStallLimitMs: 0 })).toThrow(/mainStallLimitMs/);
  });

  it('is KISJOBS_MAIN_STALL_LIMIT_MS or --main-stall-limit-ms for the runnable (unset: the default)', () => {
    const unset = parseExecutorSettings([], env, io);
    expect(unset.kind === 'ok' && 'mainStallLimitMs' in unset.settings).toBe(false);
    expect(parseExecutorSettings([], { ...env, KISJOBS_MAIN_STALL_LIMIT_MS: '45000' }, io)).toMatchObject({
      kind: 'ok',
      settings: { mainStallLimitMs: 45_000 },
    });
    expect(
      parseExecutorSettings(
        ['--main-stall-limit-ms', '5000'],
        { ...env, KISJOBS_MAIN_STALL_LIMIT_MS: '45000' },
        io,
      ),
    ).toMatchObject({ kind: 'ok', settings: { mainStallLimitMs: 5_000 } });
    expect(parseExecutorSettings([], { ...env, KISJOBS_MAIN_STALL_LIMIT_MS: '500' }, io)).toEqual({
      kind: 'invalid',
      issues: [{ path: 'KISJOBS_MAIN_STALL_LIMIT_MS', message: 'Expected at least 1000 (got "500")' }],
    });
  });
});
