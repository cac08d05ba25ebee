import { describe, expect, it } from 'vitest';
import {
  createKeyspace,
  DEFAULT_KEY_PREFIX,
  HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_TTL_MS,
  newId,
  RUN_EVENT_TYPES,
  tokenHash,
  ValidationError,
  type Keyspace,
} from '@kisjobs/protocol';
import { thrown } from './fixtures.js';

/** Redis Cluster's rule: hash only what is between the first `{` and the next `}`, if non-empty. */
function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  const close = open === -1 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/** Every key, channel and stream the keyspace names, plus the BullMQ keys of its queues. */
function allKeys(ks: Keyspace): string[] {
  const runId = newId('run');
  const queues = [ks.groupQueue('etl'), ks.directQueue('host-1.example.com-4123')];
  const bullKeys = queues.flatMap((queue) =>
    ['wait', 'active', 'meta', 'events', 'id', runId].map((suffix) => `${ks.bullPrefix}:${queue}:${suffix}`),
  );
  return [
    ...bullKeys,
    ...queues.map((queue) => ks.queueKeyPrefix(queue)),
    ks.executor('host-1.example.com-4123'),
    ks.heartbeat('host-1.example.com-4123'),
    ks.groupMembers('etl'),
    ks.groups(),
    ks.registrationToken(tokenHash('kjs_secret')),
    ks.registryStream(),
    ks.controlChannel(),
    ks.executorControlChannel('host-1.example.com-4123'),
    ks.cancelFlag(runId),
    ks.runEventsStream(),
    ks.runLogsStream(),
    ks.deadLetterStream(),
    ks.liveLogChannel(runId),
    ks.scheduleDue(),
    ks.lock('maintenance'),
  ];
}

describe('createKeyspace', () => {
  it('puts every key under one hash tag, BullMQ keys included', () => {
    const ks = createKeyspace();
    expect(ks.prefix).toBe(DEFAULT_KEY_PREFIX);
    expect(ks.hashTag).toBe('{kisjobs}');
    expect(ks.bullPrefix).toBe('{kisjobs}');
    const routed = RUN_EVENT_TYPES.map((type) => ks.streamForRunEvent(type));
    for (const key of [...allKeys(ks), ...routed]) {
      expect(key.startsWith('{kisjobs}:')).toBe(true);
      expect(hashTagOf(key)).toBe('kisjobs');
      expect(key).toMatch(/^\{kisjobs\}:\S+$/);
    }
  });

  it('applies a custom prefix everywhere (e.g. one per test)', () => {
    const ks = createKeyspace('t_lx3k_9f2a');
    for (const key of allKeys(ks)) expect(hashTagOf(key)).toBe('t_lx3k_9f2a');
    expect(ks.pattern).toBe('{t_lx3k_9f2a}:*');
  });

  it('gives every key a distinct name', () => {
    const ks = createKeyspace();
    const keys = allKeys(ks);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('names BullMQ queues without `:` (BullMQ rejects it) and apart from our own keys', () => {
    const ks = createKeyspace();
    expect(ks.groupQueue('etl')).toBe('grp.etl');
    expect(ks.directQueue('host-1.example.com-4123')).toBe('exe.host-1.example.com-4123');
    expect(ks.queueKeyPrefix('grp.etl')).toBe('{kisjobs}:grp.etl');
    expect(ks.groupQueue('etl')).not.toContain(':');
    expect(ks.executor('a')).toBe('{kisjobs}:executor:a');
    expect(ks.heartbeat('a')).toBe('{kisjobs}:heartbeat:a');
    expect(ks.groupMembers('etl')).toBe('{kisjobs}:group:etl:members');
  });

  it('sends log events to the logs stream and the rest to the events stream', () => {
    const ks = createKeyspace();
    expect(ks.streamForRunEvent('log')).toBe(ks.runLogsStream());
    for (const type of ['started', 'progress', 'finished'] as const) {
      expect(ks.streamForRunEvent(type)).toBe(ks.runEventsStream());
    }
  });

  it('refuses names that would break the layout, naming the argument', () => {
    const ks = createKeyspace();
    const cases: [() => string, string][] = [
      [() => ks.groupQueue('ETL'), 'group'],
      [() => ks.groupQueue('a:b'), 'group'],
      [() => ks.groupMembers('{other}'), 'group'],
      [() => ks.groupQueue(''), 'group'],
      [() => ks.groupQueue('g'.repeat(65)), 'group'],
      [() => ks.directQueue('host 1'), 'instanceId'],
      [() => ks.executor('a}b'), 'instanceId'],
      [() => ks.heartbeat('-leading-dash'), 'instanceId'],
      [() => ks.cancelFlag('run:1'), 'runId'],
      [() => ks.liveLogChannel('job_01jq3v6k9e7x2m4n8p0r5s7t9w'), 'runId'],
      [() => ks.registrationToken('plain-token'), 'tokenHash'],
      [() => ks.lock('a:b'), 'name'],
      [() => ks.queueKeyPrefix('other'), 'queueName'],
      [() => createKeyspace('{kisjobs}').groups(), 'prefix'],
      [() => createKeyspace('a:b').groups(), 'prefix'],
    ];
    for (const [call, path] of cases) {
      const err = thrown(call);
      expect(err).toBeInstanceOf(ValidationError);
      expect(new Set((err as ValidationError).issues.map((issue) => issue.path))).toEqual(new Set([path]));
    }
  });

  it('heartbeat TTL covers a few beats and expires well inside the 10 s detection target', () => {
    expect(HEARTBEAT_TTL_MS / HEARTBEAT_INTERVAL_MS).toBeGreaterThanOrEqual(2);
    expect(HEARTBEAT_TTL_MS).toBeLessThan(10_000);
  });
});
