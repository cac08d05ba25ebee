import { describe, expect, it } from 'vitest';
import { joinKey, redisSettings } from '../src/connectors/redis-settings.js';
import { conn } from './support/config-builders.js';

const settingsOf = (addrs: string, params: Record<string, string> = {}, key = 'k') =>
  redisSettings(conn('R', 'redis', { addrs, params, key }));

describe('redis connector settings', () => {
  it.each([
    ['0.0.0.0:9988,0.0.0.0:9999,0.0.0.0:9990', { url: undefined, host: '0.0.0.0', port: 9988 }],
    [' redis-a:7000 , redis-b:7001', { url: undefined, host: 'redis-a', port: 7000 }],
    ['cache.internal', { url: undefined, host: 'cache.internal', port: 6379 }],
    ['[::1]:6380', { url: undefined, host: '::1', port: 6380 }],
    ['redis://127.0.0.1:6379', { url: 'redis://127.0.0.1:6379', host: '127.0.0.1', port: 6379 }],
    [
      'rediss://user:pw@redis.example:6390/2',
      { url: 'rediss://user:pw@redis.example:6390/2', host: 'redis.example', port: 6390 },
    ],
  ])('addrs %s', (addrs, expected) => {
    expect(settingsOf(addrs)).toMatchObject({ ok: true, settings: expected });
  });

  it('reads db, credentials and timeouts from params, with defaults', () => {
    expect(settingsOf('h:1')).toMatchObject({
      ok: true,
      settings: {
        db: undefined,
        password: undefined,
        connectTimeoutMs: 3000,
        commandTimeoutMs: undefined,
        prefix: 'k',
      },
    });
    expect(
      settingsOf('h:1', {
        db: '3',
        username: 'u',
        password: 'p',
        connect_timeout_ms: '250',
        command_timeout_ms: '900',
        client_name: 'n',
      }),
    ).toMatchObject({
      ok: true,
      settings: {
        db: 3,
        username: 'u',
        password: 'p',
        connectTimeoutMs: 250,
        commandTimeoutMs: 900,
        clientName: 'n',
      },
    });
  });

  it('reports every bad value', () => {
    const result = settingsOf('h:notaport', { db: '-1', connect_timeout_ms: '1.5' });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.issues).toEqual([
      'addrs: "h:notaport" has no valid port',
      'params.db: "-1" is not an integer >= 0',
      'params.connect_timeout_ms: "1.5" is not an integer >= 1',
    ]);
    expect(settingsOf(' , ')).toMatchObject({ ok: false, issues: ['addrs: no address given'] });
    expect(settingsOf('h:70000')).toMatchObject({ ok: false, issues: ['addrs: port 70000 is out of range'] });
  });

  it('joins keys under the prefix', () => {
    expect(joinKey('{p}:orders', ['user', 42])).toBe('{p}:orders:user:42');
    expect(joinKey('', ['user', 'a'])).toBe('user:a');
    expect(joinKey('p', [])).toBe('p');
  });
});
