/** Measuring helpers of the schedule benchmark: percentiles, process CPU and RSS from /proc, the docs section. */
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export interface Latency {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export function latencyOf(values: readonly number[]): Latency {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    Math.round(s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? Number.NaN);
  return { count: s.length, p50: at(0.5), p99: at(0.99), max: Math.round(s.at(-1) ?? Number.NaN) };
}

/** A Prometheus histogram's cumulative bucket counts by upper bound in seconds (`+Inf` as Infinity). */
export function histogramBuckets(metricsText: string, name: string): Map<number, number> {
  const buckets = new Map<number, number>();
  const pattern = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, 'gm');
  for (const match of metricsText.matchAll(pattern)) {
    const bound = match[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[1]);
    buckets.set(bound, Number(match[2]));
  }
  return buckets;
}

/**
 * Where the q-quantile of what a histogram counted between two scrapes lies, in ms: at most the upper bound
 * of its bucket (`atMost`), or, in the +Inf bucket, more than the last bound (`moreThan`). Buckets are all a
 * histogram keeps, so this is as fine as they are. Undefined when nothing was counted.
 */
export function bucketQuantileMs(
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
  q: number,
): { readonly atMost: number } | { readonly moreThan: number } | undefined {
  const bounds = [...after.keys()].sort((x, y) => x - y);
  const delta = (bound: number) => (after.get(bound) ?? 0) - (before.get(bound) ?? 0);
  const total = delta(Number.POSITIVE_INFINITY);
  if (!(total > 0)) return undefined;
  let lower = 0;
  for (const bound of bounds) {
    if (delta(bound) >= q * total) {
      return bound === Number.POSITIVE_INFINITY ? { moreThan: lower * 1000 } : { atMost: bound * 1000 };
    }
    lower = bound;
  }
  return undefined;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : Math.round(((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2);
}

const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

/** CPU time (user + system, ms) and resident memory (MB) of a process, from /proc. */
export function procUsage(pid: number): { cpuMs: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuMs: (ticks * 1000) / TICKS_PER_SECOND, rssMb: Math.round(Number(rss?.[1] ?? 0) / 1024) };
}

/** Samples a process every second: its CPU share over the span and its largest RSS. */
export class ProcSampler {
  readonly #pid: number;
  readonly #startCpu: number;
  readonly #startAt = performance.now();
  readonly #timer: NodeJS.Timeout;
  #maxRss = 0;
  #rssSamples: number[] = [];

  constructor(pid: number) {
    this.#pid = pid;
    const first = procUsage(pid);
    this.#startCpu = first.cpuMs;
    this.#maxRss = first.rssMb;
    this.#timer = setInterval(() => {
      try {
        const { rssMb } = procUsage(pid);
        this.#maxRss = Math.max(this.#maxRss, rssMb);
        this.#rssSamples.push(rssMb);
      } catch {
        // the process is gone
      }
    }, 1_000);
  }

  stop(): { cpuPct: number; maxRssMb: number; medianRssMb: number } {
    clearInterval(this.#timer);
    const elapsed = performance.now() - this.#startAt;
    const { cpuMs } = procUsage(this.#pid);
    return {
      cpuPct: Math.round(((cpuMs - this.#startCpu) / elapsed) * 100),
      maxRssMb: this.#maxRss,
      medianRssMb: median(this.#rssSamples),
    };
  }
}

export const HEADING = '## Schedule engine (bench/schedule)';

const INTRO = [
  'How precisely the schedule engine fires, and what 100,000 enabled jobs cost the scheduler. Fire precision',
  "is the executor's `started` event time minus the scheduled instant (it includes the dispatch, the queue,",
  "the executor's pick-up and the thread hand-off); the scheduler's own part is when the run row was written",
  '(`triggered_at`) minus the instant. "executor wait" is the executor\'s own `kisjobs_executor_run_wait_seconds`',
  'over the window (its BullMQ job added → the run started): the bucket bound its p50 and p99 fall under.',
  '"distinct" counts distinct (job, instant) pairs: fires lost =',
  'expected − distinct, fires duplicated = fires − distinct.',
  '',
  'Reading the figures:',
  '- The engine fires each instant AT the instant (an in-process timer; nothing is enqueued ahead), in batches:',
  "  the fires that come due together go to the dispatcher's parts as one job read, one transaction and one",
  '  bulk add (schedule/batch-dispatch.ts). With the one-fire `trigger` the scheduler spent 1-2.5 ms of CPU',
  '  per fire, so 1,000 fires/s did not fit on this machine at all.',
  '- Fires spread over the second are the case the 50 ms target is about. When 1,000 or 10,000 jobs share one',
  "  instant, the executor's 100 threads start them one hundred at a time: the tail is the executor draining a",
  '  burst, not the scheduler being late (compare the two latency columns).',
  '- In the run recorded below (2026-12-05: every executor thread started first with `--warm-threads`, short',
  '  runs queued on flowing threads) the 50 ms target is not met: at 1,000 fires/s the median of the three',
  "  2-minute runs is p50 193 ms, p99 951 ms from instant to executor start. The scheduler's own part",
  '  (`triggered_at`) is p50 13-22 ms, p99 82-146 ms: the rest is the executor slowly falling behind, since a',
  '  run costs about 1.7-1.9 ms of CPU across all processes (see the run pipeline section) and 1,000 runs/s',
  "  takes nearly all of this machine's two cores. No fire was lost or duplicated in any scenario (660,000",
  '  fires here, 19,920 in the scale window).',
  "- This machine's speed moves from session to session: an earlier session's run of this benchmark, with one thread per",
  '  run in flight, recorded p50 47 ms and p99 217 ms; the same code measured p50 of 21-108 s in later sessions.',
  '- A lease held by a replica that is behind is renewed, so a burst that takes seconds to dispatch (10,000',
  '  fires at once) is still fired whole; before that renewal existed, this benchmark lost fires in the',
  '  10,000-job scenario (leases ran out mid-burst and the instants were re-planned as misfires).',
  '- This 2-core machine runs everything at once (Postgres, Redis, the scheduler, the executor and its 100',
  '  threads, the benchmark); repeated runs move by about 20%.',
].join('\n');

/** Replaces (or appends) this benchmark's section of docs/BENCHMARKS.md. */
export async function writeDocsSection(file: string, report: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    text =
      '# Benchmarks\n\nMeasured figures from the benchmarks in `bench/`. Each section says how to rerun it.\n';
  }
  const section = `${HEADING}\n\n${INTRO}\n\n${report}\n`;
  const start = text.indexOf(HEADING);
  if (start === -1) {
    await writeFile(file, `${text.trimEnd()}\n\n${section}`);
    return;
  }
  const next = text.indexOf('\n## ', start + HEADING.length);
  const after = next === -1 ? '' : text.slice(next + 1);
  await writeFile(file, `${text.slice(0, start)}${section}${after === '' ? '' : `\n${after}`}`);
}
