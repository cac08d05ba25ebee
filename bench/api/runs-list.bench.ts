/**
 * `GET /api/runs` under load (issue #5): 1,000,000 runs seeded with raw multi-row INSERTs (generate_series) in a
 * fresh migrated database, the real HTTP app (createHttpApp: authentication, the access policy, validation,
 * the keyset-paged listing) on loopback, and `--clients` concurrent clients in another process
 * (bench/api/load-client.ts) for `--seconds`, each picking from a mix of filters (none, status, job, scene,
 * an operator's two granted scenes, a day's window, trigger types) and following the cursor for 1-3 pages.
 * Reports p50/p99/max latency and requests/s of each repetition and their medians, the p99 after the load
 * client's first 2 s (its cold start), the CPU time per request of the app, of its Postgres backends (from
 * /proc) and of the load client (on two shared cores, the three together bound the throughput), and the load
 * average. The app's clock follows real time, so cached principals age out as in production.
 *
 *   npx tsx bench/api/runs-list.bench.ts              # (npm run bench:api) prints the report
 *   options: --runs 1000000 --clients 200 --seconds 20 --repeat 3
 *
 * Needs the test services (Redis on 6379, Postgres on 5432; see docs/development.md).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { httpEnv, type HttpEnv } from '../../apps/scheduler/test/support/http-env.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000000' },
    clients: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '20' },
    repeat: { type: 'string', default: '3' },
  },
});
const RUNS = Number(values.runs);
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const REPEAT = Number(values.repeat);

const SCENES = 5;
const JOBS_PER_SCENE = 10;
const CHUNK = 100_000;
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface LoadResult {
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** p99 of the requests sent after the load client's first 2 s (no cold start). */
  readonly steadyP99: number;
  readonly errors: Readonly<Record<string, number>>;
  /** CPU time of the load client per request. */
  readonly clientCpuMs: number;
  /** Bytes of a 200 answer's body. */
  readonly wireBytesPerAnswer: number;
  /** CPU time of this process (the HTTP app and its Postgres client) per request. */
  readonly serverCpuMs?: number;
  /** CPU time of the Postgres backends serving this database per request (Linux /proc; NaN elsewhere). */
  readonly postgresCpuMs?: number;
  /** The 1-minute load average when the repetition ended. */
  readonly loadAverage?: number;
}

/** CPU ms used so far by each Postgres backend connected to the bench database (empty where /proc is not). */
async function postgresCpu(env: HttpEnv): Promise<Map<number, number>> {
  const rows = await env.prisma.$queryRawUnsafe<{ pid: number }[]>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
  );
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesised name): utime and stime in 1/100 s.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
        .replace(/^.*\) /, '')
        .split(' ');
      out.set(pid, (Number(fields[11]) + Number(fields[12])) * 10);
    } catch {
      // Not Linux, or the backend ended.
    }
  }
  return out;
}

function cpuSpent(before: Map<number, number>, after: Map<number, number>): number {
  if (after.size === 0) return Number.NaN;
  let spent = 0;
  for (const [pid, ms] of after) spent += ms - (before.get(pid) ?? 0);
  return spent;
}

/** Scenes through the app's own repository; the group, jobs and runs by raw SQL. Returns the job ids. */
async function seed(env: HttpEnv, sceneIds: readonly string[]): Promise<string[]> {
  const db = env.prisma;
  await db.$executeRawUnsafe(`INSERT INTO executor_groups (id, name) VALUES ('grp_bench', 'bench')`);
  const jobIds: string[] = [];
  for (const [s, sceneId] of sceneIds.entries()) {
    for (let j = 0; j < JOBS_PER_SCENE; j++) {
      const id = `job_${String(s * JOBS_PER_SCENE + j).padStart(26, '0')}`;
      jobIds.push(id);
      await db.$executeRawUnsafe(
        `INSERT INTO jobs (id, scene_id, name, flow_name, schedule_type, executor_group_id, updated_at)
         VALUES ($1, $2, $3, 'bench-flow', 'manual', 'grp_bench', now())`,
        id,
        sceneId,
        `bench-${s}-${j}`,
      );
    }
  }
  const scenesSql = `ARRAY[${sceneIds.map((id) => `'${id}'`).join(',')}]`;
  const jobCount = jobIds.length;
  // Run i belongs to job (i % jobs), whose scene is job / JOBS_PER_SCENE; one run every 2.5 s back from now.
  for (let from = 1; from <= RUNS; from += CHUNK) {
    const to = Math.min(RUNS, from + CHUNK - 1);
    await db.$executeRawUnsafe(`
      INSERT INTO runs (id, job_id, scene_id, flow_name, status, trigger_type, scheduled_at, triggered_at,
                        started_at, finished_at, attempt, params, duration_ms, updated_at, created_at)
      SELECT 'run_' || lpad(to_hex(i), 26, '0'),
             'job_' || lpad(((i % ${jobCount}))::text, 26, '0'),
             (${scenesSql})[((i % ${jobCount}) / ${JOBS_PER_SCENE}) + 1],
             'bench-flow',
             (CASE WHEN i % 50 = 0 THEN 'failed' WHEN i % 199 = 0 THEN 'timed_out'
                   WHEN i % 997 = 0 THEN 'terminated' ELSE 'succeeded' END)::run_status,
             (CASE WHEN i % 20 = 0 THEN 'manual' WHEN i % 33 = 0 THEN 'api' ELSE 'cron' END)::trigger_type,
             t, t, t, t + interval '1 second', 1, '{}'::jsonb, 1000, t, t
      FROM generate_series(${from}, ${to}) AS i,
           LATERAL (SELECT now() - (${RUNS} - i) * interval '2500 milliseconds' AS t) AS at`);
  }
  await db.$executeRawUnsafe('ANALYZE runs');
  return jobIds;
}

/**
 * EXPLAIN ANALYZE of the listing's query shapes (the SQL listRuns sends: filters, the keyset
 * condition from a cursor deep in the table, ORDER BY triggered_at DESC, id DESC, LIMIT 51): the database's
 * share of a request, and which index each shape uses.
 */
async function explain(
  env: HttpEnv,
  sceneIds: readonly string[],
  jobIds: readonly string[],
): Promise<string[]> {
  const [key] = await env.prisma.$queryRawUnsafe<{ at: string; id: string }[]>(
    `SELECT to_char(triggered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, id
     FROM runs ORDER BY triggered_at DESC, id DESC OFFSET ${Math.floor(RUNS / 2)} LIMIT 1`,
  );
  const deep = `'${key?.at ?? ''}'::timestamptz`;
  const shapes: [string, string][] = [
    ['no filter, first page', 'TRUE'],
    [
      'no filter, cursor half-way down',
      `triggered_at <= ${deep} AND (triggered_at < ${deep} OR id < '${key?.id ?? ''}')`,
    ],
    ["status = 'failed'", `status = ANY ('{failed}')`],
    ['job', `job_id = '${jobIds[7] ?? ''}'`],
    ["job + status 'failed'", `job_id = '${jobIds[12] ?? ''}' AND status = ANY ('{failed}')`],
    ['two granted scenes', `scene_id = ANY (ARRAY['${sceneIds[0] ?? ''}', '${sceneIds[1] ?? ''}'])`],
    [
      "two granted scenes + status 'failed'",
      `scene_id = ANY (ARRAY['${sceneIds[0] ?? ''}', '${sceneIds[1] ?? ''}']) AND status = ANY ('{failed}')`,
    ],
    ["trigger types 'manual','api'", `trigger_type = ANY ('{manual,api}')`],
  ];
  const out: string[] = ['| query shape | plan | execution ms |', '|---|---|---|'];
  for (const [name, where] of shapes) {
    const rows = await env.prisma.$queryRawUnsafe<{ 'QUERY PLAN': string }[]>(
      `EXPLAIN ANALYZE SELECT * FROM runs WHERE ${where} ORDER BY triggered_at DESC, id DESC LIMIT 51`,
    );
    const plan = rows.map((r) => r['QUERY PLAN']);
    const scan =
      plan
        .find((line) => /Scan|Sort/.test(line))
        ?.trim()
        .replace(/\s+\(cost.*$/, '') ?? '?';
    const time = /Execution Time: ([\d.]+)/.exec(plan.join('\n'))?.[1] ?? '?';
    out.push(`| ${name} | ${scan.replace(/\|/g, '/')} | ${time} |`);
  }
  return out;
}

function load(spec: object): Promise<LoadResult> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'bench/api/load-client.ts'), JSON.stringify(spec)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load client exited ${code}`));
      else resolve(JSON.parse(out) as LoadResult);
    });
  });
}

const ms = (x: number): string => x.toFixed(1);

/** The middle value (the mean of the two middle ones for an even count). */
function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2;
}

async function main(): Promise<void> {
  const env = await httpEnv('bench-api', { http: { checkResponses: false } });
  // The app runs on the test env's fake clock: keep it on real time, so that cached principals age out (2 s)
  // and last-seen writes fall due as they would in production.
  const ticking = setInterval(() => env.clock.advance(Date.now() - env.clock.now().getTime()), 20);
  try {
    const sceneIds: string[] = [];
    for (let s = 0; s < SCENES; s++) sceneIds.push(await env.scene(`bench-scene-${s}`));
    const seedStarted = performance.now();
    const jobIds = await seed(env, sceneIds);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    process.stderr.write(`seeded ${RUNS} runs in ${seedSeconds.toFixed(1)} s\n`);
    const admin = await env.user('admin');
    const operator = await env.user('operator', sceneIds.slice(0, 2));
    const day = 24 * 3600 * 1000;
    const dayFrom = new Date(Date.now() - 3 * day).toISOString();
    const dayTo = new Date(Date.now() - 2 * day).toISOString();
    const a = admin.token;
    const queries: [string, string][] = [
      [a, '/api/runs'],
      [a, '/api/runs?limit=100'],
      [a, '/api/runs?status=failed'],
      [a, '/api/runs?status=failed,timed_out'],
      [a, `/api/runs?jobId=${jobIds[7] ?? ''}`],
      [a, `/api/runs?sceneId=${sceneIds[3] ?? ''}`],
      [a, `/api/runs?from=${dayFrom}&to=${dayTo}`],
      [a, '/api/runs?triggerType=manual,api'],
      [a, `/api/runs?jobId=${jobIds[12] ?? ''}&status=failed`],
      [operator.token, '/api/runs'],
      [operator.token, '/api/runs?status=failed'],
      [operator.token, `/api/runs?sceneId=${sceneIds[1] ?? ''}&status=succeeded`],
    ];
    const plans = await explain(env, sceneIds, jobIds);
    const results: LoadResult[] = [];
    for (let r = 0; r < REPEAT; r++) {
      const pgBefore = await postgresCpu(env);
      const cpuBefore = process.cpuUsage();
      const loaded = await load({
        url: env.url,
        clients: CLIENTS,
        seconds: SECONDS,
        queries,
      });
      const cpu = process.cpuUsage(cpuBefore);
      const pgSpent = cpuSpent(pgBefore, await postgresCpu(env));
      const result = {
        ...loaded,
        serverCpuMs: (cpu.user + cpu.system) / 1000 / loaded.requests,
        postgresCpuMs: pgSpent / loaded.requests,
        loadAverage: loadavg()[0] ?? Number.NaN,
      };
      results.push(result);
      process.stderr.write(`run ${r + 1}: ${JSON.stringify(result)}\n`);
    }
    const model = cpus()[0]?.model ?? 'unknown';
    const lines = [
      `Machine: ${cpus().length} cores (${model}), Node ${process.version}; Postgres and Redis on loopback.`,
      `Seed: ${RUNS.toLocaleString('en-US')} runs (${SCENES} scenes, ${jobIds.length} jobs) in ${seedSeconds.toFixed(1)} s.`,
      `Load: ${CLIENTS} concurrent clients for ${SECONDS} s, ${queries.length} queries in the mix, 1-3 cursor pages each.`,
      '',
      'CPU ms/request: the app (this process), its Postgres backends, and the load client. Steady p99: requests',
      "sent after the load client's first 2 s. Load: the 1-minute load average when the repetition ended.",
      '',
      '| repetition | requests | req/s | p50 ms | p99 ms | max ms | steady p99 ms | CPU app | CPU Postgres | CPU client | KB/answer | load | non-200 |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...results.map(
        (x, i) =>
          `| ${i + 1} | ${x.requests} | ${Math.round(x.rps)} | ${ms(x.p50)} | ${ms(x.p99)} | ${ms(x.max)} | ${ms(x.steadyP99)} | ${ms(x.serverCpuMs ?? Number.NaN)} | ${ms(x.postgresCpuMs ?? Number.NaN)} | ${ms(x.clientCpuMs)} | ${ms(x.wireBytesPerAnswer / 1024)} | ${ms(x.loadAverage ?? Number.NaN)} | ${JSON.stringify(x.errors)} |`,
      ),
      `| **median** | | **${Math.round(median(results.map((x) => x.rps)))}** | **${ms(median(results.map((x) => x.p50)))}** | **${ms(median(results.map((x) => x.p99)))}** | **${ms(median(results.map((x) => x.max)))}** | **${ms(median(results.map((x) => x.steadyP99)))}** | **${ms(median(results.map((x) => x.serverCpuMs ?? Number.NaN)))}** | **${ms(median(results.map((x) => x.postgresCpuMs ?? Number.NaN)))}** | **${ms(median(results.map((x) => x.clientCpuMs)))}** | **${ms(median(results.map((x) => x.wireBytesPerAnswer / 1024)))}** | | |`,
    ];
    lines.push(
      '',
      `The database side of each request (EXPLAIN ANALYZE at ${RUNS.toLocaleString('en-US')} rows):`,
      '',
      ...plans,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    clearInterval(ticking);
    await env.close();
  }
}

await main();
