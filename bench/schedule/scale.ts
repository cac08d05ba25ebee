/**
 * The scale part of the schedule benchmark: 100,000 enabled cron jobs, each every 10 minutes, spread over
 * the 600 seconds (`S M/10 * * * *`, ~167 fires/s); block strategy serial (the default). Measures the bulk
 * insert, the scheduler's start, its CPU and RSS while firing (every fire of the window checked), and a
 * restart: SIGKILL, then the same replica started again.
 */
import { fireQueryOf, fireTimesAfter } from '@kisjobs/scheduler';
import { insertCronJobs } from '../../test/schedule/support/bulk.js';
import { startScheduleStack } from '../../test/schedule/support/stack.js';
import { latencyOf, procUsage, ProcSampler, sleep } from './measure.js';

export interface ScaleResult {
  readonly report: readonly string[];
}

const exprOf = (i: number): string => `${i % 60} ${Math.floor(i / 60) % 10}/10 * * * *`;

/** How many fires the jobs make in [from, to): per distinct expression, its instants times its jobs. */
function expectedFires(jobs: number, from: number, to: number): number {
  const perExpr = new Map<string, number>();
  for (let i = 0; i < jobs; i++) perExpr.set(exprOf(i), (perExpr.get(exprOf(i)) ?? 0) + 1);
  let total = 0;
  for (const [expr, count] of perExpr) {
    const query = fireQueryOf({ type: 'cron', expr, timezone: 'UTC' }, null, new Date(from));
    total += fireTimesAfter(query, new Date(from - 1), 1_000, new Date(to)).length * count;
  }
  return total;
}

async function firesIn(
  stack: Awaited<ReturnType<typeof startScheduleStack>>,
  from: number,
  to: number,
): Promise<{ recorded: number; distinct: number; lateness: number[] }> {
  const rows = await stack.prisma.$queryRawUnsafe<{ job_id: string; at: Date; late: number }[]>(
    `SELECT job_id, scheduled_at AS at, extract(epoch FROM triggered_at - scheduled_at) * 1000 AS late
     FROM runs WHERE scheduled_at >= $1::timestamptz AND scheduled_at < $2::timestamptz`,
    new Date(from).toISOString(),
    new Date(to).toISOString(),
  );
  return {
    recorded: rows.length,
    distinct: new Set(rows.map((r) => `${r.job_id}|${r.at.getTime()}`)).size,
    lateness: rows.map((r) => Number(r.late)),
  };
}

export async function measureScale(spec: {
  jobs: number;
  seconds: number;
  concurrency: number;
}): Promise<ScaleResult> {
  const stack = await startScheduleStack('bench-scale');
  try {
    await stack.spawnExecutor({ concurrency: 20 });
    const insertStart = performance.now();
    await insertCronJobs(stack, { count: spec.jobs, expr: exprOf });
    const insertMs = performance.now() - insertStart;

    const spawnAt = performance.now();
    const first = await stack.spawnScheduler({ name: 'scale' });
    const startMs = performance.now() - spawnAt;
    const idleRss = procUsage(first.child.pid ?? 0).rssMb;
    await sleep(5_000);
    const from = Math.ceil(Date.now() / 1000) * 1000 + 1_000;
    const to = from + spec.seconds * 1000;
    await sleep(from - Date.now());
    const sampler = new ProcSampler(first.child.pid ?? 0);
    await sleep(to - Date.now());
    const usage = sampler.stop();
    await sleep(3_000);
    const window = await firesIn(stack, from, to);
    const expected = expectedFires(spec.jobs, from, to);
    const late = latencyOf(window.lateness);

    // Restart: SIGKILL, then the same replica (same name: it frees its previous leases at once).
    const killedAt = Date.now();
    await first.kill('SIGKILL');
    const respawnAt = performance.now();
    await stack.spawnScheduler({ name: 'scale' });
    const readyMs = performance.now() - respawnAt;
    await sleep(15_000);
    const resumed = await stack.prisma.run.findFirst({
      where: { triggeredAt: { gte: new Date(killedAt) } },
      orderBy: { triggeredAt: 'asc' },
      select: { triggeredAt: true },
    });
    const gapTo = killedAt + 10_000;
    const gap = await firesIn(stack, killedAt, gapTo);
    const gapExpected = expectedFires(spec.jobs, killedAt, gapTo);
    const gapLate = latencyOf(gap.lateness);
    const n = (v: number) => Math.round(v).toLocaleString('en-US');
    return {
      report: [
        `Scale: ${n(spec.jobs)} enabled cron jobs (\`S M/10 * * * *\`, spread: ~${n(spec.jobs / 600)} fires/s), block strategy serial, one executor at concurrency 20.`,
        '',
        '| measure | value |',
        '|---|---:|',
        `| bulk insert of the jobs (multi-row SQL, next fire computed per distinct schedule) | ${n(insertMs)} ms |`,
        `| scheduler process start → scheduling (tsx load, migrations checked, services started) | ${n(startMs)} ms |`,
        `| scheduler RSS: at start / max / median over ${spec.seconds} s of firing | ${idleRss} / ${usage.maxRssMb} / ${usage.medianRssMb} MB |`,
        `| scheduler CPU over ${spec.seconds} s of firing (one core = 100%) | ${usage.cpuPct}% |`,
        `| fires in the ${spec.seconds} s window: expected / recorded / distinct | ${n(expected)} / ${n(window.recorded)} / ${n(window.distinct)} |`,
        `| recorded − instant, p50 / p99 / max | ${late.p50} / ${late.p99} / ${late.max} ms |`,
        `| restart: SIGKILL → new process ready | ${n(readyMs)} ms |`,
        `| restart: SIGKILL → first fire by the new process | ${resumed === null ? 'none' : `${n(resumed.triggeredAt.getTime() - killedAt)} ms`} |`,
        `| fires due in the 10 s after the SIGKILL: expected / made / distinct, latest one | ${n(gapExpected)} / ${n(gap.recorded)} / ${n(gap.distinct)}, ${gapLate.max} ms late |`,
      ],
    };
  } finally {
    await stack.close();
  }
}
