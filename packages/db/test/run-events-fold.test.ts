/**
 * `applyRunEvents` writes a run that is started and finished in the same batch with one UPDATE. These tests
 * check that the result is the one of the sequential statements it replaces: each batch is compared with
 * the same events applied as separate single-type calls in the order started, skipped, finished (which is
 * what one batch did before the fold), on a twin run in the same initial state, and some against literals.
 */
import type { TestDatabase } from '@kisjobs/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ApplyRunEventsResult, Db, PrismaClient, RunEvent, RunTransition } from '../src/index.js';
import { applyRunEvents, createDb, insertRuns } from '../src/index.js';
import type { Fixture } from './support.js';
import { createMigratedDatabase, seedJob } from './support.js';

let database: TestDatabase;
let db: Db;
let fx: Fixture;

beforeAll(async () => {
  database = await createMigratedDatabase('run_events_fold');
  db = createDb({ url: database.url });
  fx = await seedJob(db.prisma, 'fold');
});
afterAll(async () => {
  await db?.close();
  await database?.drop();
});

const t = (s: number): Date => new Date(Date.parse('2031-03-01T00:00:00.000Z') + s * 1000);

type Setup = 'pending' | 'running' | 'final' | 'skipped' | 'missing';

interface Case {
  readonly name: string;
  readonly setup: Setup;
  readonly events: (runId: string) => RunEvent[];
}

const started = (runId: string, s: number, executorInstanceId: string): RunEvent => ({
  type: 'started',
  runId,
  at: t(s),
  executorInstanceId,
});
const skipped = (runId: string, s: number, reason = 'full'): RunEvent => ({
  type: 'skipped',
  runId,
  at: t(s),
  reason,
});
type Finished = Extract<RunEvent, { type: 'finished' }>;
const finished = (runId: string, s: number, more: Partial<Finished> = {}): RunEvent => ({
  type: 'finished',
  runId,
  at: t(s),
  status: 'succeeded',
  ...more,
});

const cases: readonly Case[] = [
  {
    name: 'started_finished',
    setup: 'pending',
    events: (id) => [started(id, 1, 'exi_a'), finished(id, 3, { summary: { rows: 2 } })],
  },
  { name: 'started_only', setup: 'pending', events: (id) => [started(id, 1, 'exi_a')] },
  {
    name: 'finished_only_fallbacks',
    setup: 'pending',
    events: (id) => [finished(id, 4, { status: 'lost', startedAt: t(1), executorInstanceId: 'exi_f' })],
  },
  { name: 'finished_only_bare', setup: 'pending', events: (id) => [finished(id, 4, { status: 'lost' })] },
  {
    name: 'running_finished_only_fallbacks',
    setup: 'running',
    events: (id) => [finished(id, 6, { startedAt: t(2), executorInstanceId: null })],
  },
  {
    name: 'started_twice_finished',
    setup: 'pending',
    events: (id) => [started(id, 1, 'exi_a'), started(id, 2, 'exi_b'), finished(id, 5)],
  },
  {
    name: 'started_finished_started',
    setup: 'pending',
    events: (id) => [started(id, 1, 'exi_a'), finished(id, 5), started(id, 7, 'exi_c')],
  },
  {
    name: 'finished_twice',
    setup: 'pending',
    events: (id) => [finished(id, 2), finished(id, 3, { status: 'lost' })],
  },
  {
    name: 'started_finished_twice',
    setup: 'pending',
    events: (id) => [
      started(id, 1, 'exi_a'),
      finished(id, 2, { status: 'failed', errorMessage: 'boom', errorCode: 'E1' }),
      finished(id, 3, { status: 'lost' }),
    ],
  },
  {
    name: 'skipped_started_finished',
    setup: 'pending',
    events: (id) => [skipped(id, 0), started(id, 1, 'exi_a'), finished(id, 3)],
  },
  {
    name: 'started_finished_skipped',
    setup: 'pending',
    events: (id) => [started(id, 1, 'exi_a'), finished(id, 3), skipped(id, 4)],
  },
  { name: 'started_skipped', setup: 'pending', events: (id) => [started(id, 1, 'exi_a'), skipped(id, 2)] },
  { name: 'skipped_finished', setup: 'pending', events: (id) => [skipped(id, 1), finished(id, 3)] },
  { name: 'skipped_twice', setup: 'pending', events: (id) => [skipped(id, 1, 'a'), skipped(id, 2, 'b')] },
  {
    name: 'running_started_finished',
    setup: 'running',
    events: (id) => [started(id, 5, 'exi_new'), finished(id, 8)],
  },
  {
    name: 'running_started_finished_all_fields',
    setup: 'running',
    events: (id) => [
      started(id, 5, 'exi_new'),
      finished(id, 8, {
        status: 'timed_out',
        executorInstanceId: 'exi_fin',
        startedAt: t(-1),
        durationMs: 42,
        summary: { fns: 3 },
        errorMessage: 'slow',
        errorCode: 'TIMEOUT',
      }),
    ],
  },
  {
    // Outside the types, but the started statement stores its executor as is, null included.
    name: 'running_started_null_executor_finished',
    setup: 'running',
    events: (id) => [started(id, 5, null as unknown as string), finished(id, 8)],
  },
  {
    name: 'running_started_skipped_finished',
    setup: 'running',
    events: (id) => [started(id, 5, 'exi_new'), skipped(id, 6), finished(id, 8)],
  },
  {
    name: 'finished_before_started_earlier_fallback',
    setup: 'pending',
    events: (id) => [
      finished(id, 4, { status: 'terminated', startedAt: t(-2), executorInstanceId: 'exi_f' }),
      started(id, 1, 'exi_a'),
    ],
  },
  {
    name: 'started_finished_later_fallback',
    setup: 'pending',
    events: (id) => [started(id, 1, 'exi_a'), finished(id, 6, { startedAt: t(3) })],
  },
  {
    name: 'started_finished_explicit_duration',
    setup: 'pending',
    events: (id) => [started(id, 1, 'exi_a'), finished(id, 4, { durationMs: 1234 })],
  },
  {
    name: 'started_finished_explicit_null_duration',
    setup: 'pending',
    events: (id) => [started(id, 1, 'exi_a'), finished(id, 4, { durationMs: null })],
  },
  {
    name: 'finished_before_start_time',
    setup: 'pending',
    events: (id) => [started(id, 5, 'exi_a'), finished(id, 2)],
  },
  {
    name: 'final_started_finished',
    setup: 'final',
    events: (id) => [started(id, 5, 'exi_z'), finished(id, 6, { status: 'lost' })],
  },
  {
    name: 'final_all_three',
    setup: 'final',
    events: (id) => [started(id, 5, 'exi_z'), skipped(id, 5), finished(id, 6, { status: 'lost' })],
  },
  {
    name: 'skipped_run_started_finished',
    setup: 'skipped',
    events: (id) => [started(id, 5, 'exi_z'), finished(id, 6)],
  },
  {
    name: 'missing_started_finished',
    setup: 'missing',
    events: (id) => [started(id, 5, 'exi_z'), skipped(id, 5), finished(id, 6)],
  },
];

let scheduled = 0;
/** Creates a run in the given initial state (nothing for `missing`) and returns its id. */
async function prepare(id: string, setup: Setup): Promise<string> {
  if (setup === 'missing') return id;
  scheduled++;
  await insertRuns(db.prisma, [
    {
      id,
      jobId: fx.jobId,
      sceneId: fx.sceneId,
      flowName: 'flow-1',
      triggerType: 'cron',
      scheduledAt: new Date(Date.parse('2031-03-02T00:00:00.000Z') + scheduled * 1000),
    },
  ]);
  if (setup === 'running') await applyRunEvents(db.prisma, [started(id, 0, 'exi_old')]);
  if (setup === 'final')
    await applyRunEvents(db.prisma, [
      started(id, 0, 'exi_old'),
      finished(id, 1, { status: 'failed', errorMessage: 'first', errorCode: 'E0', summary: { a: 1 } }),
    ]);
  if (setup === 'skipped') await applyRunEvents(db.prisma, [skipped(id, 0, 'discard')]);
  return id;
}

/** The batch as the old code applied it: the started statement, then the skipped one, then the finished one. */
async function applySequentially(
  prisma: PrismaClient,
  events: readonly RunEvent[],
): Promise<ApplyRunEventsResult> {
  const applied: RunTransition[] = [];
  const ignored: { runId: string; type: RunEvent['type'] }[] = [];
  for (const type of ['started', 'skipped', 'finished'] as const) {
    const ofType = events.filter((e) => e.type === type);
    if (ofType.length === 0) continue;
    const result = await applyRunEvents(prisma, ofType);
    applied.push(...result.applied);
    ignored.push(...result.ignored);
  }
  return { applied, ignored };
}

async function rowOf(id: string): Promise<Record<string, unknown> | null> {
  const row = await db.prisma.run.findUnique({ where: { id } });
  if (row === null) return null;
  return {
    status: row.status,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    executorInstanceId: row.executorInstanceId,
    durationMs: row.durationMs,
    summary: row.summary,
    errorMessage: row.errorMessage,
    errorCode: row.errorCode,
    skipReason: row.skipReason,
  };
}

const typeOrder = { started: 0, skipped: 1, finished: 2 } as const;
/** Within a type the order of the old code was the one Postgres returned rows in: compare sorted by run. */
function normalized(result: ApplyRunEventsResult, rename: (id: string) => string): unknown {
  const byTypeThenRun = <T extends { runId: string; type: RunEvent['type'] }>(a: T, b: T): number =>
    typeOrder[a.type] - typeOrder[b.type] || a.runId.localeCompare(b.runId);
  return {
    applied: result.applied.map((x) => ({ ...x, runId: rename(x.runId) })).sort(byTypeThenRun),
    ignored: result.ignored.map((x) => ({ ...x, runId: rename(x.runId) })).sort(byTypeThenRun),
  };
}

function expectTypesGrouped(result: ApplyRunEventsResult): void {
  const order = result.applied.map((x) => typeOrder[x.type]);
  expect(order).toEqual([...order].sort((a, b) => a - b));
}

describe('applyRunEvents folds started + finished of a run into one UPDATE', () => {
  for (const c of cases) {
    test(`${c.name}: same rows and transitions as the sequential statements`, async () => {
      const foldId = await prepare(`run_f1_${c.name}`, c.setup);
      const refId = await prepare(`run_r1_${c.name}`, c.setup);
      const folded = await applyRunEvents(db.prisma, c.events(foldId));
      const reference = await applySequentially(db.prisma, c.events(refId));

      expect(await rowOf(foldId)).toEqual(await rowOf(refId));
      expectTypesGrouped(folded);
      // One run per batch: the order is fully determined, so compare it as is.
      expect(folded.applied).toEqual(reference.applied.map((x) => ({ ...x, runId: foldId })));
      expect(normalized(folded, (id) => id)).toEqual(normalized(reference, () => foldId));
    });
  }

  test('all the cases in one batch, interleaved: same rows and transitions', async () => {
    const fold = new Map<string, string>();
    const ref = new Map<string, string>();
    for (const c of cases) {
      fold.set(c.name, await prepare(`run_f2_${c.name}`, c.setup));
      ref.set(c.name, await prepare(`run_r2_${c.name}`, c.setup));
    }
    const interleave = (ids: Map<string, string>): RunEvent[] => {
      const lists = cases.map((c) => c.events(ids.get(c.name) ?? ''));
      const out: RunEvent[] = [];
      for (let i = 0; lists.some((l) => i < l.length); i++)
        for (const l of lists) if (i < l.length) out.push(l[i] as RunEvent);
      return out;
    };
    const folded = await applyRunEvents(db.prisma, interleave(fold));
    const reference = await applySequentially(db.prisma, interleave(ref));

    for (const c of cases) {
      const row = await rowOf(fold.get(c.name) ?? '');
      expect({ case: c.name, row }).toEqual({ case: c.name, row: await rowOf(ref.get(c.name) ?? '') });
    }
    expectTypesGrouped(folded);
    const toCase = new Map<string, string>();
    for (const c of cases) {
      toCase.set(fold.get(c.name) ?? '', c.name);
      toCase.set(ref.get(c.name) ?? '', c.name);
    }
    const rename = (id: string): string => toCase.get(id) ?? id;
    expect(normalized(folded, rename)).toEqual(normalized(reference, rename));
  });

  test('literal results of the common cases', async () => {
    const plain = await prepare('run_lit_plain', 'pending');
    const result = await applyRunEvents(db.prisma, [
      started(plain, 1, 'exi_a'),
      finished(plain, 3, { summary: { rows: 2 } }),
    ]);
    expect(result).toEqual({
      applied: [
        { runId: plain, type: 'started', status: 'running' },
        { runId: plain, type: 'finished', status: 'succeeded' },
      ],
      ignored: [],
    });
    expect(await rowOf(plain)).toEqual({
      status: 'succeeded',
      startedAt: t(1),
      finishedAt: t(3),
      executorInstanceId: 'exi_a',
      durationMs: 2000,
      summary: { rows: 2 },
      errorMessage: null,
      errorCode: null,
      skipReason: null,
    });

    // Already running: the first start time stays, the new start's executor is recorded.
    const running = await prepare('run_lit_running', 'running');
    await applyRunEvents(db.prisma, [started(running, 5, 'exi_new'), finished(running, 8)]);
    expect(await rowOf(running)).toMatchObject({
      status: 'succeeded',
      startedAt: t(0),
      executorInstanceId: 'exi_new',
      durationMs: 8000,
    });

    // The start's time beats the finish's fallback; the finish's executor beats the start's.
    const fallback = await prepare('run_lit_fallback', 'pending');
    await applyRunEvents(db.prisma, [
      finished(fallback, 4, { status: 'terminated', startedAt: t(-2), executorInstanceId: 'exi_f' }),
      started(fallback, 1, 'exi_a'),
    ]);
    expect(await rowOf(fallback)).toMatchObject({
      status: 'terminated',
      startedAt: t(1),
      executorInstanceId: 'exi_f',
      durationMs: 3000,
    });

    // A skipped event next to a start never applies; the run ends with the finish.
    const skip = await prepare('run_lit_skip', 'pending');
    const withSkip = await applyRunEvents(db.prisma, [
      skipped(skip, 0),
      started(skip, 1, 'exi_a'),
      finished(skip, 2),
    ]);
    expect(withSkip.applied.map((x) => x.type)).toEqual(['started', 'finished']);
    expect(withSkip.ignored).toEqual([{ runId: skip, type: 'skipped' }]);
    expect(await rowOf(skip)).toMatchObject({ status: 'succeeded', skipReason: null, durationMs: 1000 });

    // A final run: nothing applies, both are ignored.
    const final = await prepare('run_lit_final', 'final');
    const late = await applyRunEvents(db.prisma, [started(final, 5, 'exi_z'), finished(final, 6)]);
    expect(late).toEqual({
      applied: [],
      ignored: [
        { runId: final, type: 'started' },
        { runId: final, type: 'finished' },
      ],
    });
  });

  test('a batch of started + finished pairs sends the lock and one UPDATE', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await prepare(`run_count_${i}`, 'pending'));
    const sent: string[] = [];
    const counting = new Proxy(db.prisma, {
      get(target, key, receiver): unknown {
        if (key === '$queryRawUnsafe')
          return (sql: string, ...values: unknown[]) => {
            sent.push(sql.trim().split(/\s+/).slice(0, 2).join(' '));
            return target.$queryRawUnsafe(sql, ...values);
          };
        const value: unknown = Reflect.get(target, key, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const result = await applyRunEvents(
      counting,
      ids.flatMap((id, i) => [started(id, i, `exi_${i}`), finished(id, i + 2)]),
    );
    expect(sent).toEqual(['SELECT id', 'UPDATE runs']);
    expect(result.applied).toHaveLength(10);
    expect(result.ignored).toEqual([]);

    // With nothing to fold, each type with rows still gets its own statement, and only those.
    sent.length = 0;
    const more: string[] = [];
    for (let i = 0; i < 2; i++) more.push(await prepare(`run_count_more_${i}`, 'pending'));
    await applyRunEvents(counting, [skipped(more[0] ?? '', 1), started(more[1] ?? '', 1, 'exi_x')]);
    expect(sent).toHaveLength(3);
  });
});
