/** Pure: the heartbeat miss tracker, with heartbeats built by hand (the executor's clock is the beat's `at`). */
import { describe, expect, it } from 'vitest';
import type { Heartbeat } from '@kisjobs/protocol';
import { MissTracker } from '../src/lost/miss-tracker.js';

const RUN = 'run_01jq3v6k9e7x2m4n8p0r5s7t9w';
const OTHER = 'run_01jq3v6k9e7x2m4n8p0r5s7t9x';
const t0 = Date.parse('2031-01-01T00:00:00.000Z');
const beat = (ms: number, runIds: string[] = []): Heartbeat => ({
  instanceId: 'exe-1',
  at: new Date(t0 + ms).toISOString(),
  activeRuns: runIds.length,
  load: 0,
  runIds,
  draining: false,
});
const tracker = (): MissTracker => new MissTracker({ missedBeats: 2, minMissSpanMs: 1_500 });
const started = new Date(t0);

describe('MissTracker', () => {
  it('needs two distinct beats after the start that omit the run, spanning the minimum', () => {
    const t = tracker();
    expect(t.observe(RUN, started, beat(2_000))).toBe(false);
    expect(t.observe(RUN, started, beat(2_000))).toBe(false); // the same beat read again
    expect(t.observe(RUN, started, beat(4_000))).toBe(true);
  });

  it('a beat that lists the run resets the count', () => {
    const t = tracker();
    expect(t.observe(RUN, started, beat(2_000))).toBe(false);
    expect(t.observe(RUN, started, beat(4_000, [RUN]))).toBe(false);
    expect(t.observe(RUN, started, beat(6_000))).toBe(false);
    expect(t.observe(RUN, started, beat(8_000))).toBe(true);
  });

  it('ignores beats from before the run started', () => {
    const t = tracker();
    const late = new Date(t0 + 3_000);
    expect(t.observe(RUN, late, beat(2_000))).toBe(false);
    expect(t.observe(RUN, late, beat(3_000))).toBe(false);
    expect(t.observe(RUN, late, beat(4_000))).toBe(false);
    expect(t.observe(RUN, late, beat(6_000))).toBe(true);
  });

  it('beats in quick succession (ping answers) do not add up to a loss', () => {
    const t = tracker();
    expect(t.observe(RUN, started, beat(2_000))).toBe(false);
    expect(t.observe(RUN, started, beat(2_100))).toBe(false);
    expect(t.observe(RUN, started, beat(2_200))).toBe(false);
    expect(t.observe(RUN, started, beat(3_600))).toBe(true);
  });

  it('forgets runs that are no longer running', () => {
    const t = tracker();
    t.observe(RUN, started, beat(2_000, [OTHER]));
    t.observe(OTHER, started, beat(2_000, [RUN]));
    expect(t.size).toBe(2);
    t.retain(new Set([OTHER]));
    expect(t.size).toBe(1);
    expect(t.observe(RUN, started, beat(4_000))).toBe(false);
  });
});
