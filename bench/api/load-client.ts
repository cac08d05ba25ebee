/**
 * The load side of the runs-list benchmark, in a process of its own so that its event loop does not share the
 * server's: `clients` loops, each sending one request at a time for `seconds`, picking a query from the mix
 * and following `nextCursor` for 1-3 pages. Prints one JSON line: the latencies' p50/p99/max, requests/s and
 * the answers that were not 200, plus p50/p99 of the requests sent after the first 2 s (`steady*`: without
 * the cold start of JIT, connections and caches, which the overall figures include), and this process's CPU
 * per request. Uses node:http with a keep-alive agent (one socket per client): cheaper on CPU than fetch,
 * which matters when the load and the server share two cores.
 */
import { Agent, request } from 'node:http';

interface LoadSpec {
  readonly url: string;
  readonly clients: number;
  readonly seconds: number;
  /** [token, path-and-query] pairs: the mix. */
  readonly queries: readonly (readonly [string, string])[];
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
}

const agent = new Agent({ keepAlive: true, maxSockets: spec.clients });

function get(target: string, token: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(target, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Requests sent in the first WARM_UP_MS are left out of the "steady" percentiles (JIT, connections, caches). */
const WARM_UP_MS = 2_000;

async function client(
  deadline: number,
  latencies: number[],
  steady: number[],
  steadyFrom: number,
  errors: Map<number, number>,
): Promise<void> {
  while (Date.now() < deadline) {
    const pick = spec.queries[Math.floor(Math.random() * spec.queries.length)];
    if (pick === undefined) return;
    const [token, path] = pick;
    const pages = 1 + Math.floor(Math.random() * 3);
    let cursor: string | null = null;
    for (let page = 0; page < pages && Date.now() < deadline; page++) {
      const sep = path.includes('?') ? '&' : '?';
      const target = `${spec.url}${path}${cursor === null ? '' : `${sep}cursor=${cursor}`}`;
      const started = performance.now();
      const response = await get(target, token);
      const latency = performance.now() - started;
      latencies.push(latency);
      if (started >= steadyFrom) steady.push(latency);
      if (response.status !== 200) {
        errors.set(response.status, (errors.get(response.status) ?? 0) + 1);
        break;
      }
      cursor = (JSON.parse(response.text) as { nextCursor: string | null }).nextCursor;
      if (cursor === null) break;
    }
  }
}

async function main(): Promise<void> {
  const latencies: number[] = [];
  const steady: number[] = [];
  const errors = new Map<number, number>();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const deadline = Date.now() + spec.seconds * 1000;
  await Promise.all(
    Array.from({ length: spec.clients }, () =>
      client(deadline, latencies, steady, started + WARM_UP_MS, errors),
    ),
  );
  agent.destroy();
  const cpu = process.cpuUsage(cpuBefore);
  const elapsed = (performance.now() - started) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  const steadySorted = steady.sort((a, b) => a - b);
  process.stdout.write(
    `${JSON.stringify({
      requests: sorted.length,
      rps: sorted.length / elapsed,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: sorted.at(-1) ?? Number.NaN,
      steadyP50: percentile(steadySorted, 0.5),
      steadyP99: percentile(steadySorted, 0.99),
      errors: Object.fromEntries(errors),
      clientCpuMs: (cpu.user + cpu.system) / 1000 / Math.max(1, sorted.length),
    })}\n`,
  );
}

await main();
