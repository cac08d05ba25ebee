/**
 * Schedule engine benchmark (issue #4), on the real stack: a scheduler replica as a child process
 * (test/schedule/support/scheduler-entry.ts: `createScheduler` with the engine), one executor child
 * process at concurrency 100 (its 100 isolation threads started by a warm-up first), Postgres and Redis
 * on loopback.
 *
 * - precision: fire precision = executor `started` event time (`runs.started_at`) minus the scheduled
 *   instant, p50/p99/max, and the scheduler's own part (`triggered_at` minus the instant);
 *   · 1,000 jobs every second for 2 minutes, their instants spread over the second (fixed rate, anchors
 *     1 ms apart): 1,000 fires/s (the target: p99 ≤ 50 ms, none lost or duplicated), median of 3 runs;
 *   · the same 1,000 jobs on one cron `* * * * * *` (all 1,000 at each second's start), 1 minute;
 *   · 10,000 jobs every 10 s (cron `*\/10 * * * * *`: all 10,000 at once), 2 minutes.
 * - scale: 100,000 enabled cron jobs (each every 10 minutes, spread over the 600 seconds: ~167 fires/s);
 *   bulk insert time, scheduler CPU and RSS over 2 minutes of firing, every fire checked; then a restart
 *   (SIGKILL, start again): time to resume scheduling and the fires in the gap.
 *
 *   npx tsx bench/schedule/schedule.bench.ts             # (npm run bench:schedule) prints the report
 *   npx tsx bench/schedule/schedule.bench.ts --write     # also replaces the section in docs/BENCHMARKS.md
 *   options: --quick (short windows, for a smoke run), --only precision,aligned,tenk,scale
 *
 * Needs the test services (Redis on 6379, Postgres on 5432; see docs/development.md).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { insertCronJobs } from '../../test/schedule/support/bulk.js';
import {
  startScheduleStack,
  type ScheduleStack,
  type ServiceChild,
} from '../../test/schedule/support/stack.js';
import { measureScale, type ScaleResult } from './scale.js';
import {
  bucketQuantileMs,
  histogramBuckets,
  latencyOf,
  median,
  ProcSampler,
  sleep,
  writeDocsSection,
  type Latency,
} from './measure.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    only: { type: 'string', default: 'precision,aligned,tenk,scale' },
    concurrency: { type: 'string', default: '100' },
    jobs: { type: 'string', default: '1000' },
  },
});
const QUICK = values.quick;
const ONLY = new Set(values.only.split(','));
const CONCURRENCY = Number(values.concurrency);
const SPREAD_JOBS = Number(values.jobs);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface WindowResult {
  readonly name: string;
  readonly jobs: number;
  readonly seconds: number;
  readonly expected: number;
  readonly recorded: number;
  readonly distinct: number;
  readonly notSucceeded: number;
  /** The statuses of the runs that did not succeed, e.g. `lost 12`. */
  readonly notSucceededBy: string;
  readonly started: Latency;
  readonly triggered: Latency;
  /** p50 / p99 of the executor's `kisjobs_executor_run_wait_seconds` over the window (ready → started). */
  readonly executorWait?: string;
  readonly schedulerCpuPct: number;
  readonly schedulerRssMb: number;
}

async function measureWindow(
  stack: ScheduleStack,
  scheduler: ServiceChild,
  spec: {
    name: string;
    jobs: number;
    seconds: number;
    everySeconds: number;
    expr: (i: number) => string | { everyMs: number };
    startAt: (start: number, i: number) => Date;
  },
  /** The executor's /metrics URL: its start-delay histogram is read before and after the window. */
  executorMetrics?: string,
): Promise<WindowResult> {
  const period = spec.everySeconds * 1000;
  const start = Math.ceil((Date.now() + 5_000 + spec.jobs / 5) / period) * period;
  const end = start + spec.seconds * 1000;
  const prefix = `${spec.name}-${start}-`;
  const ids = await insertCronJobs(stack, {
    count: spec.jobs,
    expr: spec.expr,
    startAt: (i) => spec.startAt(start, i),
    endAt: new Date(end),
    blockStrategy: 'parallel',
    namePrefix: prefix,
  });
  const waitHistogram = async () =>
    executorMetrics === undefined
      ? undefined
      : histogramBuckets(await (await fetch(executorMetrics)).text(), 'kisjobs_executor_run_wait_seconds');
  const waitBefore = await waitHistogram();
  await sleep(start - Date.now());
  const sampler = new ProcSampler(scheduler.child.pid ?? 0);
  await sleep(end - Date.now());
  const usage = sampler.stop();
  const expected = spec.jobs * (spec.seconds / spec.everySeconds);
  // Wait for every run of the stack to end (a backlog must not spill into the next scenario).
  const deadline = Date.now() + 600_000;
  for (;;) {
    const open = await stack.prisma.run.count({ where: { status: { in: ['pending', 'running'] } } });
    const recorded = await stack.prisma.run.count({ where: { jobId: { in: ids } } });
    if ((open === 0 && (recorded >= expected || Date.now() > end + 30_000)) || Date.now() > deadline) break;
    await sleep(1_000);
  }
  const rows = await stack.prisma.$queryRawUnsafe<
    { started: number | null; triggered: number; status: string; job_id: string; at: Date }[]
  >(
    `SELECT extract(epoch FROM started_at - scheduled_at) * 1000 AS started,
            extract(epoch FROM triggered_at - scheduled_at) * 1000 AS triggered, status, job_id, scheduled_at AS at
     FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name LIKE $1`,
    `${prefix}%`,
  );
  const distinct = new Set(rows.map((r) => `${r.job_id}|${r.at.getTime()}`)).size;
  const waitAfter = await waitHistogram();
  const waitQuantile = (q: number): string => {
    const found =
      waitBefore === undefined || waitAfter === undefined
        ? undefined
        : bucketQuantileMs(waitBefore, waitAfter, q);
    if (found === undefined) return '-';
    return 'atMost' in found ? `≤ ${Math.round(found.atMost)}` : `> ${Math.round(found.moreThan)}`;
  };
  return {
    name: spec.name,
    jobs: spec.jobs,
    seconds: spec.seconds,
    expected,
    recorded: rows.length,
    distinct,
    notSucceeded: rows.filter((r) => r.status !== 'succeeded').length,
    notSucceededBy: statusCounts(rows.filter((r) => r.status !== 'succeeded').map((r) => r.status)),
    started: latencyOf(rows.flatMap((r) => (r.started === null ? [] : [Number(r.started)]))),
    triggered: latencyOf(rows.map((r) => Number(r.triggered))),
    ...(executorMetrics === undefined
      ? {}
      : { executorWait: `${waitQuantile(0.5)} / ${waitQuantile(0.99)} ms` }),
    schedulerCpuPct: usage.cpuPct,
    schedulerRssMb: usage.maxRssMb,
  };
}

function statusCounts(statuses: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const status of statuses) counts.set(status, (counts.get(status) ?? 0) + 1);
  return [...counts].map(([status, n]) => `${status} ${n}`).join(', ');
}

function windowTable(results: readonly WindowResult[]): string {
  const head =
    '| scenario | fires (expected) | distinct | not succeeded | start − instant p50 / p99 / max | recorded − instant p50 / p99 / max | executor wait p50 / p99 | scheduler CPU | scheduler RSS |';
  const sep = '|---|---:|---:|---:|---:|---:|---:|---:|---:|';
  const ms = (l: Latency) => (l.count === 0 ? 'none started' : `${l.p50} / ${l.p99} / ${l.max} ms`);
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${r.recorded.toLocaleString('en-US')} (${r.expected.toLocaleString('en-US')}) | ${r.distinct.toLocaleString('en-US')} | ${r.notSucceeded}${r.notSucceededBy === '' ? '' : ` (${r.notSucceededBy})`} | ${ms(r.started)} | ${ms(r.triggered)} | ${r.executorWait ?? '-'} | ${r.schedulerCpuPct}% | ${r.schedulerRssMb} MB |`,
  );
  return [head, sep, ...rows].join('\n');
}

async function precision(
  concurrency: number,
  scenarios: ReadonlySet<string>,
  label = '',
): Promise<WindowResult[]> {
  const stack = await startScheduleStack('bench-schedule');
  const results: WindowResult[] = [];
  const run = async (spec: Parameters<typeof measureWindow>[2]) => {
    results.push(
      await measureWindow(stack, scheduler, { ...spec, name: `${spec.name}${label}` }, executorMetrics),
    );
    console.log(windowTable(results.slice(-1)));
  };
  let scheduler: ServiceChild;
  let executorMetrics: string | undefined;
  try {
    scheduler = await stack.spawnScheduler({ name: 'bench' });
    // Every isolation thread started before anything is measured (each loads tsx and the functions module,
    // about half a second of CPU), so that no window pays for thread start-up.
    const executor = await stack.spawnExecutor({ concurrency, warmThreads: concurrency, metrics: true });
    executorMetrics = String(
      (await executor.waitForLine((line) => line.msg === 'metrics endpoint listening'))['url'],
    );
    const seconds = QUICK ? 20 : 120;
    const reps = label === '' && !QUICK ? 3 : 1;
    if (!QUICK) {
      // Not measured: 30 s of the spread load first (JIT, connection pools, Postgres caches, thread heaps).
      await measureWindow(stack, scheduler, {
        name: 'warm-up load',
        jobs: SPREAD_JOBS,
        seconds: 30,
        everySeconds: 1,
        expr: () => ({ everyMs: 1_000 }),
        startAt: (start, i) => new Date(start + Math.floor((i * 1000) / SPREAD_JOBS)),
      });
    }
    if (scenarios.has('precision')) {
      for (let rep = 0; rep < reps; rep++) {
        await run({
          name: `${SPREAD_JOBS.toLocaleString('en-US')} jobs every 1 s, spread${reps > 1 ? ` (run ${rep + 1})` : ''}`,
          jobs: SPREAD_JOBS,
          seconds,
          everySeconds: 1,
          expr: () => ({ everyMs: 1_000 }),
          startAt: (start, i) => new Date(start + Math.floor((i * 1000) / SPREAD_JOBS)),
        });
      }
    }
    if (scenarios.has('aligned')) {
      await run({
        name: '1,000 jobs every 1 s, cron, all at :00.000',
        jobs: 1_000,
        seconds: QUICK ? 10 : 60,
        everySeconds: 1,
        expr: () => '* * * * * *',
        startAt: (start) => new Date(start),
      });
    }
    if (scenarios.has('tenk')) {
      await run({
        name: '10,000 jobs every 10 s, cron, all at once',
        jobs: 10_000,
        seconds: QUICK ? 20 : 120,
        everySeconds: 10,
        expr: () => '*/10 * * * * *',
        startAt: (start) => new Date(start),
      });
    }
  } finally {
    await stack.close();
  }
  return results;
}

async function main(): Promise<void> {
  const windows =
    ONLY.has('precision') || ONLY.has('aligned') || ONLY.has('tenk')
      ? await precision(CONCURRENCY, ONLY)
      : [];
  // For comparison: the same spread load with an executor of 16 threads (fewer threads on 2 cores).
  if (ONLY.has('precision') && CONCURRENCY !== 16) {
    windows.push(...(await precision(16, new Set(['precision']), ', executor concurrency 16')));
  }
  let scale: ScaleResult | undefined;
  if (ONLY.has('scale')) {
    scale = await measureScale({
      jobs: QUICK ? 20_000 : 100_000,
      seconds: QUICK ? 30 : 120,
      concurrency: CONCURRENCY,
    });
  }
  const cpu =
    cpus()[0]
      ?.model.replace(/\s+\d+-Core Processor/, '')
      .trim() ?? 'unknown CPU';
  const machine = `${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; ${process.platform}/${process.arch}`;
  const spread = windows.filter((w) => w.name.includes('spread') && !w.name.includes('concurrency 16'));
  const lines = [
    `Command: \`npx tsx bench/schedule/schedule.bench.ts\` (or \`npm run bench:schedule\`; add \`--write\` to update docs/BENCHMARKS.md)`,
    `Machine: ${machine}`,
    `One scheduler replica (child process, default engine settings: tick 100 ms, lookahead 1 s), one executor at concurrency ${CONCURRENCY} (threads warmed up first), the \`noop\` flow (one Save function), block strategy parallel, Postgres and Redis on loopback.${QUICK ? ' QUICK RUN (short windows).' : ''}`,
    '',
  ];
  if (windows.length > 0) lines.push(windowTable(windows), '');
  if (spread.length > 1) {
    lines.push(
      `- 1,000 fires/s spread over the second, median of ${spread.length} runs: start − instant p50 ${median(spread.map((w) => w.started.p50))} ms, p99 ${median(spread.map((w) => w.started.p99))} ms, max ${median(spread.map((w) => w.started.max))} ms (target p99 ≤ 50 ms); fires lost ${spread.reduce((n, w) => n + Math.max(0, w.expected - w.distinct), 0)}, duplicated ${spread.reduce((n, w) => n + (w.recorded - w.distinct), 0)}.`,
    );
  }
  if (scale !== undefined) lines.push('', ...scale.report);
  const report = lines.join('\n');
  console.log(`\n${report}`);
  await mkdir(join(root, 'bench', 'results'), { recursive: true });
  await writeFile(join(root, 'bench', 'results', 'schedule.md'), `${report}\n`);
  if (values.write) await writeDocsSection(join(root, 'docs', 'BENCHMARKS.md'), report);
}

await main();
