import { describe, expect, it } from 'vitest';
import {
  fireIds,
  fireRunId,
  ID_PREFIXES,
  idSchema,
  idTime,
  isId,
  JobId,
  newId,
  queueJobIdOf,
  RunId,
  ValidationError,
} from '@kisjobs/protocol';
import { thrown } from './fixtures.js';

describe('newId', () => {
  it.each(ID_PREFIXES)(
    '%s: prefixed, 26 Crockford base32 characters, accepted by its schema only',
    (prefix) => {
      const id = newId(prefix);
      expect(id).toMatch(new RegExp(`^${prefix}_[0-9a-hjkmnp-tv-z]{26}$`));
      expect(idSchema(prefix).safeParse(id).success).toBe(true);
      expect(isId(prefix, id)).toBe(true);
      const other = ID_PREFIXES.find((p) => p !== prefix) ?? 'run';
      expect(isId(other, id)).toBe(false);
    },
  );

  it('is unique and sorts by creation time', () => {
    const ids = new Set(Array.from({ length: 5_000 }, () => newId('run')));
    expect(ids.size).toBe(5_000);
    const times = [0, 1, 31, 32, 2 ** 40, 1_700_000_000_000, 1_700_000_000_001, 2 ** 48 - 1];
    const sorted = times.map((ms) => newId('job', new Date(ms)));
    expect([...sorted].sort()).toEqual(sorted);
    for (const [i, ms] of times.entries()) expect(idTime(sorted[i] ?? '')?.getTime()).toBe(ms);
  });

  it('never hands out the same random bytes twice, across refills of its entropy pool', () => {
    // One instant for all, so that only the 80 random bits tell the ids apart; 50,000 ids span ~120 refills.
    const at = new Date(1_700_000_000_000);
    const random = new Set(Array.from({ length: 50_000 }, () => newId('evt', at).slice(-16)));
    expect(random.size).toBe(50_000);
  });

  it('rejects instants it cannot encode', () => {
    expect(() => newId('run', new Date(-1))).toThrow(RangeError);
    expect(() => newId('run', new Date(Number.NaN))).toThrow(RangeError);
  });

  it('schemas reject look-alikes', () => {
    for (const bad of [
      'run_',
      'run_01jq3v6k9e7x2m4n8p0r5s7t9',
      'RUN_01jq3v6k9e7x2m4n8p0r5s7t9w',
      'run_01jq3v6k9e7x2m4n8p0r5s7t9i',
      'run:01jq3v6k9e7x2m4n8p0r5s7t9w',
      42,
    ]) {
      expect(RunId.safeParse(bad).success).toBe(false);
    }
    expect(idTime('not an id')).toBeUndefined();
  });
});

describe('fireRunId', () => {
  const jobId = 'job_01jq3v6k9e7x2m4n8p0r5s7t9w';
  const at = new Date('2026-03-29T01:30:00.000Z');

  it('is deterministic: the same fire always yields the same id', () => {
    expect(fireRunId(jobId, at)).toBe(fireRunId(jobId, new Date(at.getTime())));
    expect(fireRunId(jobId, at)).toBe(fireRunId(jobId, at, 0, 1));
    expect(fireIds({ jobId, scheduledAt: at })).toEqual({
      runId: fireRunId(jobId, at),
      queueJobId: fireRunId(jobId, at),
    });
  });

  it('is pinned: the derivation never changes between releases (replicas of different versions agree)', () => {
    // Values cross-checked once against node:crypto's SHA-256 and a BigInt base32 encoder.
    expect(fireRunId(jobId, at)).toBe('run_01kmvkcme0nre67txccpmvmt8n');
    expect(fireRunId(jobId, at, 3, 2)).toBe('run_01kmvkcme0ajkygjq7r106ga08');
  });

  it('differs per job, scheduled instant, shard and attempt', () => {
    const ids = [
      fireRunId(jobId, at),
      fireRunId('job_01jq3v6k9e7x2m4n8p0r5s7t9x', at),
      fireRunId(jobId, new Date(at.getTime() + 1)),
      fireRunId(jobId, new Date(at.getTime() + 60_000)),
      fireRunId(jobId, at, 1),
      fireRunId(jobId, at, 2),
      fireRunId(jobId, at, 0, 2),
      fireRunId(jobId, at, 1, 2),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('is a valid run id whose time part is the scheduled instant, so fire ids sort by fire time', () => {
    const id = fireRunId(jobId, at, 4, 3);
    expect(RunId.safeParse(id).success).toBe(true);
    expect(idTime(id)).toEqual(at);
    const fires = [0, 1, 2, 3].map((h) => fireRunId(jobId, new Date(at.getTime() + h * 3_600_000)));
    expect([...fires].sort()).toEqual(fires);
  });

  it('gives a BullMQ-safe job id: no colon, not an integer', () => {
    const { queueJobId } = fireIds({ jobId, scheduledAt: at, shardIndex: 1, attempt: 2 });
    expect(queueJobId).not.toContain(':');
    expect(Number.isInteger(Number(queueJobId))).toBe(false);
    expect(queueJobIdOf(queueJobId)).toBe(queueJobId);
  });

  it('refuses malformed fires with a ValidationError naming each argument', () => {
    expect(JobId.safeParse(jobId).success).toBe(true);
    const err = thrown(() => fireRunId('job:1', new Date(Number.NaN), -1, 0));
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path)).toEqual([
      'jobId',
      'scheduledAt',
      'shardIndex',
      'attempt',
    ]);
  });
});
