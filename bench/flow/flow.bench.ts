/**
 * Flow engine benchmark: rows/s through a 3-function flow (Verify -> Calculate -> Expand, trivial bodies,
 * `source.must` checked at every step) at 1, 100 and 10,000 rows per run, and the engine's overhead as a
 * ratio against calling the same three bodies directly over the same rows, two ways:
 * - staged: one plain loop per function, each filling an array for the next (what a flow computes: every
 *   function receives the previous function's committed rows), minus the engine;
 * - fused: one loop calling all three bodies per row, with no intermediate arrays at all.
 *
 *   npx tsx bench/flow/flow.bench.ts            # print the table
 *   npx tsx bench/flow/flow.bench.ts --write    # also replace the section in docs/BENCHMARKS.md
 *
 * Runs are awaited one after another (a run's latency is what a worker thread pays). Each configuration is
 * measured in several repetitions after a warm-up; the table shows medians.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import {
  FlowRegistry,
  createFlowMetrics,
  defineFunction,
  type FlowHooks,
  type KisConfig,
} from '@kisjobs/flow';

interface Order {
  readonly order_id: number;
  readonly user_id: number;
  readonly amount: number;
}
interface Priced extends Order {
  readonly tax: number;
}

// The three function bodies, shared by the flow and by the direct baseline.
const verify = (o: Order): boolean => o.amount > 0;
const calculate = (o: Order): Priced => ({
  order_id: o.order_id,
  user_id: o.user_id,
  amount: o.amount,
  tax: o.amount * 0.2,
});
const expand = (p: Priced): Priced => p;

const CONFIG: KisConfig = {
  funcs: {
    Verify: {
      kind: 'func',
      name: 'Verify',
      mode: 'Verify',
      source: { name: 'orders', must: ['order_id', 'user_id', 'amount'] },
      retryTimes: 0,
      retryDelayMs: 0,
      defaultParams: {},
    },
    Calculate: {
      kind: 'func',
      name: 'Calculate',
      mode: 'Calculate',
      source: { name: 'orders', must: ['order_id', 'amount'] },
      retryTimes: 0,
      retryDelayMs: 0,
      defaultParams: {},
    },
    Expand: {
      kind: 'func',
      name: 'Expand',
      mode: 'Expand',
      source: { name: 'priced', must: ['tax'] },
      retryTimes: 0,
      retryDelayMs: 0,
      defaultParams: {},
    },
  },
  flows: {
    Bench: {
      kind: 'flow',
      name: 'Bench',
      enabled: true,
      steps: [
        { funcName: 'Verify', params: {} },
        { funcName: 'Calculate', params: {} },
        { funcName: 'Expand', params: {} },
      ],
    },
  },
  conns: {},
};

function benchRegistry(hooks?: FlowHooks): FlowRegistry {
  const registry = new FlowRegistry(hooks === undefined ? {} : { hooks });
  registry.registerFunction(
    defineFunction({
      name: 'Verify',
      handler: (ctx) => {
        const rows = ctx.rows as readonly Order[];
        for (let i = 0; i < rows.length; i++) {
          const o = rows[i] as Order;
          if (verify(o)) ctx.commit(o);
        }
      },
    }),
  );
  registry.registerFunction(
    defineFunction({
      name: 'Calculate',
      handler: (ctx) => {
        const rows = ctx.rows as readonly Order[];
        for (let i = 0; i < rows.length; i++) ctx.commit(calculate(rows[i] as Order));
      },
    }),
  );
  registry.registerFunction(
    defineFunction({
      name: 'Expand',
      handler: (ctx) => {
        const rows = ctx.rows as readonly Priced[];
        for (let i = 0; i < rows.length; i++) ctx.commit(expand(rows[i] as Priced));
      },
    }),
  );
  registry.loadConfig(CONFIG);
  return registry;
}

function makeRows(n: number): Order[] {
  return Array.from({ length: n }, (_, i) => ({ order_id: i, user_id: i % 97, amount: (i % 50) + 1 }));
}

/** Baseline 1: the same bodies, one plain loop per function, each filling an array for the next. */
function staged(rows: readonly Order[]): Priced[] {
  const verified: Order[] = [];
  for (let i = 0; i < rows.length; i++) {
    const o = rows[i] as Order;
    if (verify(o)) verified.push(o);
  }
  const priced: Priced[] = [];
  for (let i = 0; i < verified.length; i++) priced.push(calculate(verified[i] as Order));
  const out: Priced[] = [];
  for (let i = 0; i < priced.length; i++) out.push(expand(priced[i] as Priced));
  return out;
}

/** Baseline 2: the same bodies, called per row in one loop. */
function fused(rows: readonly Order[]): Priced[] {
  const out: Priced[] = [];
  for (let i = 0; i < rows.length; i++) {
    const o = rows[i] as Order;
    if (verify(o)) out.push(expand(calculate(o)));
  }
  return out;
}

let checksum = 0;

async function timeFlow(registry: FlowRegistry, rows: readonly Order[], runs: number): Promise<number> {
  const started = performance.now();
  for (let r = 0; r < runs; r++) {
    const result = await registry.run('Bench', { rows });
    if (!result.ok) throw new Error(`bench run failed: ${result.error.message}`);
    checksum += result.output.length;
  }
  return performance.now() - started;
}

function timeDirect(fn: (rows: readonly Order[]) => Priced[], rows: readonly Order[], runs: number): number {
  const started = performance.now();
  for (let r = 0; r < runs; r++) checksum += fn(rows).length;
  return performance.now() - started;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

interface Case {
  readonly label: string;
  readonly rowsPerRun: number;
  readonly runs: number;
  readonly hooks: boolean;
}

interface Measured extends Case {
  readonly flowMs: number;
  readonly stagedMs: number;
  readonly fusedMs: number;
}

const REPETITIONS = 15;
const CASES: readonly Case[] = [
  { label: '1', rowsPerRun: 1, runs: 20_000, hooks: false },
  { label: '100', rowsPerRun: 100, runs: 4_000, hooks: false },
  { label: '10,000', rowsPerRun: 10_000, runs: 60, hooks: false },
  { label: '10,000 + prom-client hooks', rowsPerRun: 10_000, runs: 60, hooks: true },
];

async function measure(c: Case): Promise<Measured> {
  const registry = benchRegistry(c.hooks ? createFlowMetrics(new Registry()) : undefined);
  const rows = makeRows(c.rowsPerRun);
  // Warm-up: let the JIT settle on every path.
  const warmRuns = Math.max(1, Math.floor(c.runs / 4));
  await timeFlow(registry, rows, warmRuns);
  timeDirect(staged, rows, warmRuns);
  timeDirect(fused, rows, warmRuns);
  const flowTimes: number[] = [];
  const stagedTimes: number[] = [];
  const fusedTimes: number[] = [];
  for (let rep = 0; rep < REPETITIONS; rep++) {
    // Rotate the order so no path always runs on a warmer (or fuller) heap.
    const order = rep % 3;
    if (order === 0) flowTimes.push(await timeFlow(registry, rows, c.runs));
    stagedTimes.push(timeDirect(staged, rows, c.runs));
    if (order === 1) flowTimes.push(await timeFlow(registry, rows, c.runs));
    fusedTimes.push(timeDirect(fused, rows, c.runs));
    if (order === 2) flowTimes.push(await timeFlow(registry, rows, c.runs));
  }
  await registry.close();
  return { ...c, flowMs: median(flowTimes), stagedMs: median(stagedTimes), fusedMs: median(fusedTimes) };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

function table(results: readonly Measured[]): string {
  const lines = [
    '| rows per run | runs per repetition | flow rows/s | flow µs per run | staged rows/s | overhead vs staged | fused rows/s | overhead vs fused |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const rows = r.rowsPerRun * r.runs;
    const perSecond = (ms: number): string => fmt((rows / ms) * 1000);
    lines.push(
      `| ${r.label} | ${fmt(r.runs)} | ${perSecond(r.flowMs)} | ${((r.flowMs * 1000) / r.runs).toFixed(1)} | ${perSecond(r.stagedMs)} | ${(r.flowMs / r.stagedMs).toFixed(2)}x | ${perSecond(r.fusedMs)} | ${(r.flowMs / r.fusedMs).toFixed(2)}x |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const results: Measured[] = [];
  for (const c of CASES) results.push(await measure(c));
  const cpu = cpus()[0]?.model.trim() ?? 'unknown cpu';
  const machine = `${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; ${process.platform}/${process.arch}`;
  const tenK = results.find((r) => r.rowsPerRun === 10_000 && !r.hooks);
  const targets =
    tenK === undefined
      ? ''
      : [
          `- overhead at 10,000 rows/run: ${(tenK.flowMs / tenK.stagedMs).toFixed(2)}x vs staged, ${(tenK.flowMs / tenK.fusedMs).toFixed(2)}x vs fused (target at most 1.5x)`,
          `- rows/s through the flow at 10,000 rows/run: ${fmt(((tenK.rowsPerRun * tenK.runs) / tenK.flowMs) * 1000)} (target at least 1,000,000)`,
        ].join('\n');
  const report = [
    `Command: \`npx tsx bench/flow/flow.bench.ts\` (or \`npm run bench:flow\`; add \`--write\` to update docs/BENCHMARKS.md)`,
    `Machine: ${machine}`,
    `Medians of ${REPETITIONS} repetitions after a warm-up; runs awaited one after another; checksum ${checksum}.`,
    '',
    table(results),
    '',
    targets,
  ].join('\n');
  console.log(report);

  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  await mkdir(join(root, 'bench', 'results'), { recursive: true });
  await writeFile(join(root, 'bench', 'results', 'flow.md'), `${report}\n`);
  if (process.argv.includes('--write')) await writeDocs(join(root, 'docs', 'BENCHMARKS.md'), report);
}

const HEADING = '## Flow engine (bench/flow)';

/** Replaces (or appends) this benchmark's section of docs/BENCHMARKS.md, keeping its prose paragraph. */
async function writeDocs(file: string, report: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    text =
      '# Benchmarks\n\nMeasured figures from the benchmarks in `bench/`. Each section says how to rerun it.\n';
  }
  const intro = [
    'A 3-function flow (Verify -> Calculate -> Expand, trivial bodies, `source.must` checked at every step)',
    'against the same three bodies called directly over the same rows: *staged* runs one plain loop per',
    'function, each filling an array for the next (the work a flow defines, minus the engine); *fused* runs',
    'one loop calling all three bodies per row, with no intermediate arrays.',
    '',
    'Reading the figures:',
    '- A run costs about 3 µs on top of its rows (a run id, a summary per step, one promise chain per',
    '  function), so small batches are dominated by it; from 10,000 rows per run the per-row path dominates.',
    '- Per row and step the engine adds one `ctx.commit` method call and the `source.must` check (generated',
    '  per function: under 2 ns per row). Against *staged* that lands around 1.4-1.5x on this 2-core machine,',
    '  which other jobs share, so repeated runs move by about 0.1x.',
    "- *fused* is not reachable by any engine in which each function receives the previous function's",
    '  committed rows: staged, with no engine at all, is itself about half as fast as fused.',
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
