/**
 * The block-strategy decision (dispatch/block-decision.ts), without Postgres or Redis: which rows a trigger
 * records and which active runs it replaces, for every strategy, and the shapes of the rows it picks from.
 * dispatch-block.test.ts (trigger) and schedule-batch.test.ts (the batch path) hold the two callers to it.
 */
import { describe, expect, it } from 'vitest';
import { BLOCK_STRATEGIES, createKeyspace, fireRunId } from '@kisjobs/protocol';
import type { ResolvedFlow } from '../src/configs/resolve.js';
import {
  activeAfter,
  blockRows,
  decideBlock,
  discardReason,
  needsJobLock,
  type BlockRows,
} from '../src/dispatch/block-decision.js';
import type { DispatchContext } from '../src/dispatch/context.js';
import type { PreparedRun } from '../src/dispatch/deliver.js';
import { finalRun } from '../src/dispatch/final-run.js';
import type { JobSpec } from '../src/dispatch/job-spec.js';
import type { ShardTarget } from '../src/dispatch/placement.js';
import type { InsertStatus } from '../src/dispatch/run-store.js';

/** A prepared row reduced to what the decision looks at. */
const row = (id: string, status: InsertStatus = 'pending', extra: Partial<PreparedRun['insert']> = {}) =>
  ({ insert: { id, status, ...extra } }) as unknown as PreparedRun;

/** Stub rows that record which alternative the decision built. */
function stubRows(ids: readonly string[] = ['run_new']) {
  const built: string[] = [];
  const rows: BlockRows = {
    dispatchable: ids.map((id) => row(id, 'pending', { dispatchedAt: new Date(0) })),
    held: () => {
      built.push('held');
      return ids.map((id) => row(id));
    },
    skipped: (reason) => {
      built.push(`skipped: ${reason}`);
      return [row(ids[0] ?? '', 'skipped', { skipReason: reason })];
    },
  };
  return { rows, built };
}

const ids = (decision: { insert: readonly PreparedRun[] }) =>
  decision.insert.map((p) => `${p.insert.id}:${p.insert.status}`);

describe('decideBlock', () => {
  it('parallel dispatches whatever is active, needs no lock and builds no alternative', () => {
    const { rows, built } = stubRows();
    const decision = decideBlock('parallel', ['run_old'], rows);
    expect(decision.insert).toBe(rows.dispatchable);
    expect(decision.replace).toEqual([]);
    expect(built).toEqual([]);
    expect(BLOCK_STRATEGIES.filter((s) => !needsJobLock(s))).toEqual(['parallel']);
  });

  it.each(BLOCK_STRATEGIES)('%s with no other active run dispatches and replaces nothing', (strategy) => {
    for (const active of [[], ['run_new']]) {
      const { rows, built } = stubRows();
      const decision = decideBlock(strategy, active, rows);
      expect(decision.insert).toBe(rows.dispatchable);
      expect(decision.replace).toEqual([]);
      expect(built).toEqual([]);
    }
  });

  it('serial holds the new runs, replaces nothing', () => {
    const { rows, built } = stubRows(['run_s0', 'run_s1']);
    const decision = decideBlock('serial', ['run_old'], rows);
    expect(ids(decision)).toEqual(['run_s0:pending', 'run_s1:pending']);
    expect(decision.replace).toEqual([]);
    expect(built).toEqual(['held']);
  });

  it('discard records one skipped row naming the oldest other active run, not its own', () => {
    const { rows, built } = stubRows();
    const decision = decideBlock('discard', ['run_new', 'run_a', 'run_b'], rows);
    expect(ids(decision)).toEqual(['run_new:skipped']);
    expect(decision.replace).toEqual([]);
    expect(built).toEqual([`skipped: ${discardReason('run_a')}`]);
  });

  it('replace dispatches and replaces every other active run, oldest first, never its own', () => {
    const { rows, built } = stubRows(['run_r0', 'run_r1']);
    const decision = decideBlock('replace', ['run_a', 'run_r1', 'run_b'], rows);
    expect(decision.insert).toBe(rows.dispatchable);
    expect(decision.replace).toEqual(['run_a', 'run_b']);
    expect(built).toEqual([]);
  });

  it('the discard reason text is the one runs have always recorded', () => {
    expect(discardReason('run_x')).toBe(
      'discarded: the job has an active run (run_x) and its block strategy is discard',
    );
  });

  it('activeAfter: the pending rows (dispatched or held) stay active, a skipped or failed row does not', () => {
    const decision = {
      insert: [row('run_a'), row('run_b', 'pending', { dispatchedAt: new Date(0) })],
      replace: [],
    };
    expect(activeAfter(decision)).toEqual(['run_a', 'run_b']);
    expect(activeAfter({ insert: [row('run_c', 'skipped'), row('run_d', 'failed')], replace: [] })).toEqual(
      [],
    );
  });

  it('a serial batch of fires, decided one after the other, dispatches the first and holds the rest', () => {
    const active: string[] = [];
    const outcomes = (['run_1', 'run_2', 'run_3'] as const).map((id) => {
      const decision = decideBlock('serial', active, stubRows([id]).rows);
      active.push(...activeAfter(decision));
      return decision.insert[0]?.insert.dispatchedAt === undefined ? 'held' : 'dispatched';
    });
    expect(outcomes).toEqual(['dispatched', 'held', 'held']);
    expect(active).toEqual(['run_1', 'run_2', 'run_3']);
  });
});

describe('blockRows: the rows both paths record', () => {
  const NOW = new Date('2031-01-01T00:00:05Z');
  const AT = new Date('2031-01-01T00:00:10Z');
  const keyspace = createKeyspace('t');
  // prepareRuns and the skipped row read only the clock and the keyspace of the context.
  const ctx = { clock: { now: () => NOW }, keyspace } as unknown as DispatchContext;
  const job: JobSpec = {
    id: 'job_01jq3v6k9e7x2m4n8p0r5s7t9w',
    sceneId: 'scn_01jq3v6k9e7x2m4n8p0r5s7t9w',
    name: 'j',
    flowName: 'noop',
    enabled: true,
    group: 'g',
    blockStrategy: 'serial',
    routing: { strategy: 'any', key: 'job_01jq3v6k9e7x2m4n8p0r5s7t9w' },
    timeoutMs: 60_000,
    retry: { maxAttempts: 3, backoff: 'fixed', delayMs: 1_000 },
    params: { p: '1' },
    childJobIds: [],
  };
  const flow = { flowName: 'noop', config: {}, functions: [], connectorTypes: [] } as unknown as ResolvedFlow;
  const targets: ShardTarget[] = [
    { target: { kind: 'direct', instanceId: 'exe-a' }, shardIndex: 0, shardTotal: 2 },
    { target: { kind: 'direct', instanceId: 'exe-b' }, shardIndex: 1, shardTotal: 2 },
  ];
  const spec = (idOf: (shard: number) => string) => ({
    job,
    flow,
    targets,
    idOf,
    triggerType: 'cron' as const,
    triggeredBy: 'scheduler',
    scheduledAt: AT,
    attempt: 1,
    params: { p: '1' },
  });

  it('dispatchable: pending with its dispatch claim, one per shard, delayed until its instant', () => {
    const rows = blockRows(
      ctx,
      spec((shard) => fireRunId(job.id, AT, shard, 1)),
    );
    expect(
      rows.dispatchable.map((p) => ({
        id: p.insert.id,
        status: p.insert.status,
        dispatchedAt: p.insert.dispatchedAt,
        queue: p.queue,
        delayMs: p.delayMs,
      })),
    ).toEqual(
      [0, 1].map((shard) => ({
        id: fireRunId(job.id, AT, shard, 1),
        status: 'pending',
        dispatchedAt: NOW,
        queue: keyspace.directQueue(shard === 0 ? 'exe-a' : 'exe-b'),
        delayMs: 5_000,
      })),
    );
  });

  it('held: the same runs and ids, pending without a claim or a queue', () => {
    const rows = blockRows(
      ctx,
      spec((shard) => fireRunId(job.id, AT, shard, 1)),
    );
    const held = rows.held();
    expect(held.map((p) => p.insert.id)).toEqual(rows.dispatchable.map((p) => p.insert.id));
    for (const p of held) {
      expect(p.insert).toMatchObject({ status: 'pending', dispatchedAt: null, targetQueue: null });
      expect(p.queue).toBeUndefined();
      expect(p.request).toBeUndefined();
    }
  });

  it('skipped: one final row for the whole trigger, shard 0 of 1, with its reason', () => {
    const rows = blockRows(
      ctx,
      spec((shard) => fireRunId(job.id, AT, shard, 1)),
    );
    const reason = discardReason('run_old');
    expect(rows.skipped(reason)).toEqual(
      finalRun(
        spec((shard) => fireRunId(job.id, AT, shard, 1)),
        NOW,
        {
          status: 'skipped',
          skipReason: reason,
        },
      ),
    );
    expect(rows.skipped(reason)[0]?.insert).toMatchObject({
      id: fireRunId(job.id, AT, 0, 1),
      status: 'skipped',
      skipReason: reason,
      shardIndex: 0,
      shardTotal: 1,
      maxAttempts: 3,
      triggeredAt: NOW,
      parentRunId: null,
      dispatchedAt: null,
      targetQueue: null,
    });
  });

  it('draws each shard id once, so a random id is the same whichever rows are recorded', () => {
    let drawn = 0;
    const rows = blockRows(
      ctx,
      spec(() => `run_${++drawn}`),
    );
    expect(rows.dispatchable.map((p) => p.insert.id)).toEqual(['run_1', 'run_2']);
    expect(rows.held().map((p) => p.insert.id)).toEqual(['run_1', 'run_2']);
    expect(rows.skipped('r').map((p) => p.insert.id)).toEqual(['run_1']);
    expect(drawn).toBe(2);
  });
});
