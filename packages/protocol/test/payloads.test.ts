import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import {
  decodePayload,
  encodePayload,
  MAX_PAYLOAD_BYTES,
  newId,
  ProtocolError,
  REDIS_PAYLOAD_KINDS,
  RedisPayloads,
  RUN_EVENT_TYPES,
  type RedisPayloadKind,
  type RunEvent,
} from '@kisjobs/protocol';
import { finishedEvent, runRequest, samples, thrown } from './fixtures.js';

function issuePaths(kind: RedisPayloadKind, raw: string | Uint8Array): string[] {
  const result = decodePayload(kind, raw);
  if (result.ok) throw new Error(`expected ${kind} to be rejected`);
  expect(result.error).toBeInstanceOf(ProtocolError);
  expect(result.error.code).toBe('PAYLOAD_INVALID');
  expect(result.error.retryable).toBe(false);
  expect(result.error.kind).toBe(kind);
  return result.error.issues.map((issue) => issue.path);
}

describe('round trip', () => {
  it('covers every catalog kind', () => {
    expect(Object.keys(samples).sort()).toEqual([...REDIS_PAYLOAD_KINDS].sort());
    expect(REDIS_PAYLOAD_KINDS.sort()).toEqual(Object.keys(RedisPayloads).sort());
  });

  it.each(REDIS_PAYLOAD_KINDS)('%s: decode(encode(x)) equals x, from a string and from a Buffer', (kind) => {
    const encoded = encodePayload(kind, samples[kind]);
    expect(typeof encoded).toBe('string');
    const fromString = decodePayload(kind, encoded);
    expect(fromString).toEqual({ ok: true, value: samples[kind] });
    expect(decodePayload(kind, Buffer.from(encoded, 'utf8'))).toEqual(fromString);
  });

  it('round-trips every run event type', () => {
    const base = { eventId: newId('evt'), runId: newId('run'), attempt: 2, instanceId: 'exe-1', seq: 0 };
    const at = '2026-03-01T02:00:00.123Z';
    const events: RunEvent[] = [
      { ...base, type: 'started', at },
      {
        ...base,
        seq: 1,
        type: 'log',
        at,
        level: 'info',
        funcName: 'f',
        message: 'héllo ✓',
        fields: { n: 1 },
      },
      { ...base, seq: 2, type: 'log', at, level: 'debug', message: '' },
      {
        ...base,
        seq: 3,
        type: 'progress',
        at,
        summary: {
          step: 0,
          funcName: 'f',
          mode: 'Verify',
          rowsIn: 1,
          rowsOut: 1,
          durationMs: 0,
          attempts: 1,
        },
      },
      finishedEvent({ status: 'succeeded', error: undefined }),
    ];
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(RUN_EVENT_TYPES));
    for (const event of events) {
      expect(decodePayload('runEvent', encodePayload('runEvent', event))).toEqual({ ok: true, value: event });
    }
  });

  it('fills defaults on encode (heartbeat without runIds and draining)', () => {
    const encoded = encodePayload('heartbeat', {
      instanceId: 'exe-1',
      at: '2026-03-01T02:00:00.000Z',
      activeRuns: 0,
      load: 0,
    });
    const decoded = decodePayload('heartbeat', encoded);
    expect(decoded.ok && decoded.value).toMatchObject({ runIds: [], draining: false });
  });

  it('drops unknown fields, so a newer peer may add optional ones', () => {
    const raw = JSON.stringify({ ...runRequest(), addedInV2: { x: 1 } });
    const decoded = decodePayload('runRequest', raw);
    expect(decoded).toEqual({ ok: true, value: runRequest() });
  });

  it('never lets the registration token into an executor record', () => {
    const decoded = decodePayload('executorRecord', encodePayload('registration', samples.registration));
    expect(decoded.ok).toBe(true);
    expect(decoded.ok && 'token' in decoded.value).toBe(false);
  });
});

describe('bad payloads come back as ok:false naming the field', () => {
  it('non-JSON input', () => {
    expect(issuePaths('runRequest', '{"runId": ')).toEqual(['']);
    expect(issuePaths('control', 'PING')).toEqual(['']);
    expect(issuePaths('heartbeat', '')).toEqual(['']);
  });

  it('bytes that are not UTF-8', () => {
    expect(issuePaths('control', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).toEqual(['']);
  });

  it('JSON that is not an object', () => {
    for (const raw of ['null', '42', '"text"', '[]', 'true']) {
      expect(issuePaths('runEvent', raw)).toEqual(['']);
    }
  });

  it('a wrong type deep inside: summary[1].rowsIn', () => {
    const event = finishedEvent();
    const raw = JSON.stringify({
      ...event,
      summary: [event.summary[0], { ...event.summary[1], rowsIn: '120' }],
    });
    expect(issuePaths('runEvent', raw)).toEqual(['summary[1].rowsIn']);
    const result = decodePayload('runEvent', raw);
    expect(!result.ok && result.error.message).toContain('summary[1].rowsIn');
  });

  it('several wrong fields are all named', () => {
    const raw = JSON.stringify({
      ...runRequest(),
      attempt: 0,
      routing: { group: 'ETL:x', strategy: 'nearest' },
    });
    expect(issuePaths('runRequest', raw).sort()).toEqual(['attempt', 'routing.group', 'routing.strategy']);
  });

  it('record values and odd keys are quoted in the path', () => {
    const raw = JSON.stringify({ ...runRequest(), params: { 'region.code': 5 } });
    expect(issuePaths('runRequest', raw)).toEqual(['params["region.code"]']);
  });

  it('an unknown discriminator names `type`', () => {
    expect(issuePaths('control', JSON.stringify({ type: 'reboot', at: '2026-03-01T02:00:00.000Z' }))).toEqual(
      ['type'],
    );
    expect(issuePaths('runEvent', JSON.stringify({ ...finishedEvent(), type: 'done' }))).toEqual(['type']);
  });

  it('missing fields and malformed ids', () => {
    const { runId: _runId, ...withoutRunId } = runRequest();
    expect(issuePaths('runRequest', JSON.stringify(withoutRunId))).toEqual(['runId']);
    expect(issuePaths('runRequest', JSON.stringify(runRequest({ jobId: 'job:1' })))).toEqual(['jobId']);
    expect(issuePaths('heartbeat', JSON.stringify({ ...samples.heartbeat, runIds: ['run_x'] }))).toEqual([
      'runIds[0]',
    ]);
  });

  it('cross-field rules: attempt <= maxAttempts, shardIndex < shardTotal, failures carry an error', () => {
    expect(issuePaths('runRequest', JSON.stringify(runRequest({ attempt: 4, maxAttempts: 3 })))).toEqual([
      'attempt',
    ]);
    expect(issuePaths('runRequest', JSON.stringify(runRequest({ shardIndex: 2, shardTotal: 2 })))).toEqual([
      'shardIndex',
    ]);
    expect(
      issuePaths('runEvent', JSON.stringify(finishedEvent({ status: 'timed_out', error: undefined }))),
    ).toEqual(['error']);
  });

  it('timestamps must be ISO-8601 UTC', () => {
    const raw = JSON.stringify(runRequest({ scheduledAt: '2026-03-01 02:00' }));
    expect(issuePaths('runRequest', raw)).toEqual(['scheduledAt']);
  });

  it('oversized input is refused before parsing', () => {
    expect(issuePaths('runRequest', ' '.repeat(MAX_PAYLOAD_BYTES + 1))).toEqual(['']);
  });

  it('never throws, whatever arrives', () => {
    const inputs: (string | Uint8Array)[] = [
      '{}',
      '{"__proto__":{"polluted":true},"type":"ping","at":"2026-03-01T02:00:00.000Z"}',
      JSON.stringify({ type: 'started', runId: null }),
      '[[[[[[[[[[]]]]]]]]]]',
      '\u0000',
      new Uint8Array(0),
      new Uint8Array([0xc3]),
    ];
    let seed = 7;
    const next = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    const valid = encodePayload('runEvent', finishedEvent());
    for (let i = 0; i < 300; i++) {
      const cut = next() % valid.length;
      inputs.push(valid.slice(0, cut) + String.fromCharCode(next() % 128) + valid.slice(cut + 1));
    }
    for (const kind of REDIS_PAYLOAD_KINDS) {
      for (const raw of inputs) {
        const result = decodePayload(kind, raw);
        expect(result.ok || result.error.issues.length > 0).toBe(true);
      }
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('encodePayload', () => {
  it('refuses an invalid value with a ProtocolError naming the field', () => {
    expect(() => encodePayload('runRequest', runRequest({ timeoutMs: 0 }))).toThrow(ProtocolError);
    const err = thrown(() =>
      encodePayload('control', { type: 'drain', instanceId: 'a b', requestedBy: 'x', at: 'now' }),
    );
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).issues.map((i) => i.path).sort()).toEqual(['at', 'instanceId']);
  });
});
