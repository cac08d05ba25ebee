/**
 * Run pipeline benchmark: end-to-end runs/s of a no-op flow, from `trigger` to the run's final state
 * committed in Postgres, with the scheduler (dispatcher, ingestion, registry, lost-run detector) in this
 * process and ONE executor child process at concurrency 50; against raw BullMQ on the same machine (a
 * no-op Worker at the same concurrency in a separate process, jobs added in bulk from this one). Then the
 * latency from trigger to start (`runs.started_at - runs.triggered_at`) at a steady 500 runs/s.
 *
 *   npx tsx bench/pipeline/pipeline.bench.ts            # print the table (npm run bench:pipeline)
 *   npx tsx bench/pipeline/pipeline.bench.ts --write    # also replace the section in docs/BENCHMARKS.md
 *   options: --runs 5000 --reps 5 --latency-seconds 10 --rate 500
 *
 * Needs the test services (Redis on 6379, Postgres on 5432; see docs/development.md).
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { startPipeline, type Pipeline } from '../../test/support/pipeline.js';
import { cpuPerUnit, cpuSnapshot, type CpuParts } from './cpu-ledger.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5000' },
    reps: { type: 'string', default: '5' },
    'latency-seconds': { type: 'string', default: '10' },
    rate: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '50' },
    write: { type: 'boolean', default: false },
  },
});
const RUNS = Number(values.runs);
const REPS = Number(values.reps);
const LATENCY_SECONDS = Number(values['latency-seconds']);
const RATE = Number(values.rate);
const CONCURRENCY = Number(values.concurrency);
/** Triggers in flight at once while measuring throughput (callers of the service API). */
const TRIGGER_CALLERS = 64;

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? 0;
};
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Active (pending or running) runs of a job: served by the partial index runs_job_active_idx. */
async function activeRuns(p: Pipeline, jobId: string): Promise<number> {
  // Raw SQL: this poll runs in the scheduler's process every 10 ms, so it should cost it as little as it can.
  const [row] = await p.prisma.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM runs WHERE job_id = ${jobId} AND status IN ('pending', 'running')`;
  return row?.n ?? 0;
}

async function pipelineRep(
  p: Pipeline,
  jobId: string,
  runs: number,
): Promise<{ ms: number; failed: number }> {
  const before = await p.prisma.run.count({ where: { jobId } });
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: TRIGGER_CALLERS }, async () => {
      while (next < runs) {
        next++;
        await p.scheduler.trigger(jobId, { triggerType: 'api', triggeredBy: 'tok_bench' });
      }
    }),
  );
  while ((await activeRuns(p, jobId)) > 0) await sleep(10);
  const ms = performance.now() - started;
  const total = await p.prisma.run.count({ where: { jobId } });
  if (total - before !== runs) throw new Error(`expected ${runs} new runs, found ${total - before}`);
  const bad = await p.prisma.run.groupBy({
    by: ['status', 'errorCode'],
    where: { jobId, status: { not: 'succeeded' }, triggeredAt: { gte: new Date(Date.now() - ms - 1_000) } },
    _count: { _all: true },
  });
  const failed = bad.reduce((sum, row) => sum + row._count._all, 0);
  if (failed > 0) {
    const sample = await p.prisma.run.findFirst({
      where: { jobId, status: { not: 'succeeded' } },
      orderBy: { triggeredAt: 'desc' },
    });
    console.error('runs not succeeded:', JSON.stringify(bad), sample?.errorMessage);
  }
  return { ms, failed };
}

async function rawRep(queue: Queue, runs: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < runs; i += 1_000) {
    const n = Math.min(1_000, runs - i);
    await queue.addBulk(
      Array.from({ length: n }, (_, k) => ({
        name: 'run',
        data: { i: i + k },
        opts: { removeOnComplete: { count: 1_000 } },
      })),
    );
  }
  // Done when nothing is left to process (removeOnComplete keeps the completed set small).
  for (;;) {
    const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
    const left = Object.values(counts).reduce((a, b) => a + b, 0);
    if (left === 0) break;
    await sleep(5);
  }
  return performance.now() - started;
}

async function startRawWorker(
  url: string,
  prefix: string,
  queue: string,
): Promise<{ stop: () => Promise<void>; pid: number | undefined }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'bench/pipeline/raw-worker.ts'), url, prefix, queue, String(CONCURRENCY)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`raw worker exited ${code}`)));
  });
  return {
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

async function latency(
  p: Pipeline,
  jobId: string,
): Promise<{ p50: number; p99: number; runs: number; achievedRate: number }> {
  const total = RATE * LATENCY_SECONDS;
  const ids: string[] = [];
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(
      p.scheduler
        .trigger(jobId, { triggerType: 'api', triggeredBy: 'tok_bench' })
        .then((r) => void ids.push(...r.runIds)),
    );
  }
  await Promise.all(pending);
  const achievedRate = (total / (performance.now() - started)) * 1000;
  while ((await activeRuns(p, jobId)) > 0) await sleep(20);
  const rows = await p.prisma.run.findMany({
    where: { id: { in: ids } },
    select: { triggeredAt: true, startedAt: true },
  });
  const lat = rows.flatMap((r) =>
    r.startedAt === null ? [] : [r.startedAt.getTime() - r.triggeredAt.getTime()],
  );
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), runs: lat.length, achievedRate };
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0] ?? 0;
  const p = await startPipeline('bench-pipeline', { poolMax: 10, defaultIntervals: true });
  let stopRaw: (() => Promise<void>) | undefined;
  try {
    const executor = await p.spawnExecutor({
      instanceId: 'bench-exe',
      concurrency: CONCURRENCY,
      // Every isolation thread started before anything is measured: otherwise the pool grows during the
      // first repetitions and their CPU is the threads' start-up (tsx, the functions module), not the runs.
      extraArgs: ['--log-level', 'warn', '--warm-threads', String(CONCURRENCY)],
      waitOnline: false,
      // e.g. BENCH_EXECUTOR_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the executor.
      nodeArgs: (process.env.BENCH_EXECUTOR_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''),
    });
    // It registers once its threads are up: two start at a time, about half a second of CPU each.
    await p.waitOnline([executor.instanceId], 60_000 + CONCURRENCY * 2_000);
    const jobId = await p.job({ flowName: 'noop', name: 'bench-noop', timeoutMs: 60_000 });

    const rawQueueName = 'raw';
    const rawWorker = await startRawWorker(p.redis.url, `{${p.redis.prefix}-raw}`, rawQueueName);
    stopRaw = rawWorker.stop;
    const ledger = { executor: executor.child.pid, 'raw worker': rawWorker.pid };
    const pipelineCpu: CpuParts[] = [];
    const rawCpu: CpuParts[] = [];
    const rawQueue = new Queue(rawQueueName, {
      connection: p.redis.client,
      prefix: `{${p.redis.prefix}-raw}`,
    });
    // Warm-up: threads, connections, JIT.
    await pipelineRep(p, jobId, Math.min(1_000, RUNS));
    await rawRep(rawQueue, Math.min(1_000, RUNS));
    // Pipeline and raw repetitions alternate, so that both see the same machine (it is shared).
    const pipelineMs: number[] = [];
    const rawMs: number[] = [];
    const ratios: number[] = [];
    let failed = 0;
    for (let i = 0; i < REPS; i++) {
      let before = cpuSnapshot(ledger);
      const rep = await pipelineRep(p, jobId, RUNS);
      pipelineCpu.push(cpuPerUnit(before, cpuSnapshot(ledger), RUNS));
      pipelineMs.push(rep.ms);
      failed += rep.failed;
      before = cpuSnapshot(ledger);
      const ms = await rawRep(rawQueue, RUNS);
      rawCpu.push(cpuPerUnit(before, cpuSnapshot(ledger), RUNS));
      rawMs.push(ms);
      ratios.push(ms / rep.ms);
      console.error(
        `rep ${i + 1}: pipeline ${fmt((RUNS / rep.ms) * 1000)} runs/s, raw ${fmt((RUNS / ms) * 1000)} jobs/s`,
      );
    }
    await stopRaw();
    stopRaw = undefined;
    await rawQueue.obliterate({ force: true });
    await rawQueue.close();

    const lat = await latency(p, jobId);

    const pipelineRate = (RUNS / median(pipelineMs)) * 1000;
    const rawRate = (RUNS / median(rawMs)) * 1000;
    const cpu = cpus()[0]?.model.trim() ?? 'unknown cpu';
    const machine = `${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; ${process.platform}/${process.arch}`;
    const report = [
      'Command: `npx tsx bench/pipeline/pipeline.bench.ts` (or `npm run bench:pipeline`; add `--write` to update docs/BENCHMARKS.md)',
      `Machine: ${machine}`,
      `Load average (1 min) ${loadBefore.toFixed(1)} before, ${(loadavg()[0] ?? 0).toFixed(1)} after: other processes share the machine, so compare the two rows of one run, not runs of different days.`,
      `${RUNS.toLocaleString('en-US')} runs per repetition, median of ${REPS} repetitions after a warm-up; executor concurrency ${CONCURRENCY}; ${TRIGGER_CALLERS} concurrent trigger callers; Redis and Postgres on loopback.`,
      '',
      '| measure | value |',
      '|---|---:|',
      `| pipeline: trigger → final state in Postgres, runs/s | ${fmt(pipelineRate)} |`,
      `| raw BullMQ: add (bulk) + no-op worker, jobs/s | ${fmt(rawRate)} |`,
      `| ratio pipeline / raw BullMQ (median of the per-repetition ratios) | ${median(ratios).toFixed(2)}x (target ≥ 0.5x) |`,
      `| runs not succeeded (all repetitions) | ${failed} |`,
      `| latency trigger → start at ${RATE} runs/s, p50 | ${fmt(lat.p50)} ms |`,
      `| latency trigger → start at ${RATE} runs/s, p99 | ${fmt(lat.p99)} ms |`,
      `| latency sample: runs, trigger rate achieved | ${fmt(lat.runs)}, ${fmt(lat.achievedRate)}/s |`,
      '',
      'CPU time per run (per job for raw BullMQ), ms, median of the repetitions; Postgres and Redis count every',
      'process of theirs on the machine:',
      '',
      cpuTable(pipelineCpu, rawCpu),
      '',
      `Repetitions, runs/s: pipeline ${pipelineMs.map((ms) => fmt((RUNS / ms) * 1000)).join(', ')}; raw ${rawMs.map((ms) => fmt((RUNS / ms) * 1000)).join(', ')}.`,
    ].join('\n');
    console.log(report);
    await mkdir(join(root, 'bench', 'results'), { recursive: true });
    await writeFile(join(root, 'bench', 'results', 'pipeline.md'), `${report}\n`);
    if (values.write) await writeDocs(join(root, 'docs', 'BENCHMARKS.md'), report);
  } finally {
    await stopRaw?.();
    await p.close({ graceful: true });
  }
}

function cpuTable(pipeline: readonly CpuParts[], raw: readonly CpuParts[]): string {
  const parts = [...new Set([...pipeline, ...raw].flatMap((x) => Object.keys(x)))];
  const cell = (reps: readonly CpuParts[], part: string): string => {
    const values = reps.map((r) => r[part] ?? 0);
    const m = median(values);
    return m < 0.005 ? '-' : m.toFixed(2);
  };
  const total = (reps: readonly CpuParts[]): string =>
    median(reps.map((r) => Object.values(r).reduce((a, b) => a + b, 0))).toFixed(2);
  return [
    `| | ${parts.join(' | ')} | total |`,
    `|---|${parts.map(() => '---:').join('|')}|---:|`,
    `| pipeline, per run | ${parts.map((x) => cell(pipeline, x)).join(' | ')} | ${total(pipeline)} |`,
    `| raw BullMQ, per job | ${parts.map((x) => cell(raw, x)).join(' | ')} | ${total(raw)} |`,
  ].join('\n');
}

const HEADING = '## Run pipeline (bench/pipeline)';

async function writeDocs(file: string, report: string): Promise<void> {
  const text = await readFile(file, 'utf8').catch(
    () =>
      '# Benchmarks\n\nMeasured figures from the benchmarks in `bench/`. Each section says how to rerun it.\n',
  );
  const intro = [
    'A no-op flow (one `Count` function) run end to end: `trigger` through the service API (job read, flow',
    'config, run row inserted, BullMQ add; concurrent triggers share one statement and one bulk add), the',
    'executor child process (BullMQ worker, isolation thread, run events XADDed), ingestion (events read by',
    'the consumer group, final state committed to Postgres, acknowledged), until no run of the job is',
    'pending or running in Postgres. Raw BullMQ is the floor under all of it: the same machine adding no-op',
    'jobs in bulk to a Worker of the same concurrency in another process; pipeline and raw repetitions',
    'alternate. Latency is `started_at - triggered_at` of each run while triggering at a steady rate.',
    '',
    'Reading the figures:',
    '- The target (at least 0.5x raw BullMQ) is not met. The CPU table says why: a raw BullMQ job costs about',
    '  0.2 ms of CPU in all (adder, worker, Redis); a run about 0.9 ms on a quiet hour of this machine and',
    '  1.7-1.9 ms on a busy one (the same code, 2026-12-05). The executor is the largest part: its',
    '  main thread (validating the RunRequest, the BullMQ worker, the hand-off to an isolation thread, the',
    "  events), V8's background threads (compilation and garbage collection) and the isolation threads.",
    "  Postgres (the run row inserted, then written once more when the run's started and finished events",
    '  arrive in one ingestion batch) is 0.15-0.3 ms and the scheduler (trigger, ingestion) 0.2-0.45 ms. At',
    '  0.5x raw BullMQ (5,000 runs/s on the quiet hour) the pipeline would need about 4.5 cores at 0.9 ms a',
    '  run, and Postgres alone most of one.',
    '- Isolation threads: each runs one run at a time, so a stuck run can be killed without touching the',
    '  others (issue #3). Short runs queue behind a thread that is flowing instead of waking a thread each, so',
    '  a few hot isolates do the work instead of 15-20 taking turns. Measured side by side on 2026-12-05 (3',
    '  repetitions each, alternating, every thread warmed first): without the queues 610-697 runs/s, executor',
    '  1.4-1.6 ms per run, p50 64-618 ms from trigger to start at 500 runs/s; with them 1,019-1,022 runs/s,',
    '  executor 0.83 ms per run, p50 34-50 ms.',
    '- Already done: concurrent triggers share one INSERT and one bulk add; the lifecycle events of one event-loop',
    '  turn go out as one pipeline (one socket write); cancel flags are read with one MGET per turn; ids draw',
    '  from a pooled CSPRNG buffer; a run started and finished within one ingestion batch is written by one',
    '  UPDATE. From 284-379 runs/s (2026-12-04) to 756-1,225 (2026-12-05, busy) and 1,715-2,474 (quiet).',
    '- The machine is shared with other test runs (see the load average): absolute figures move by 2x',
    '  between runs; the per-repetition ratio is the steadier number.',
  ].join('\n');
  const section = `${HEADING}\n\n${intro}\n\n${report}\n`;
  const start = text.indexOf(HEADING);
  if (start === -1) {
    await writeFile(file, `${text.trimEnd()}\n\n${section}`);
    return;
  }
  const next = text.indexOf('\n## ', start + HEADING.length);
  const after = next === -1 ? '' : text.slice(next + 1);
  await writeFile(file, `${text.slice(0, start)}${section}${after === '' ? '' : `\n${after}`}`);
}

await main();
process.exit(0);
