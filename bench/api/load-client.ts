/**
 * The load side of the runs-list benchmark, in a process of its own so that its event loop does not share the
 * server's: `clients` loops, each sending one request at a time for `seconds` on its own keep-alive
 * connection, picking a query from the mix and following `nextCursor` for 1-3 pages. Prints one JSON line:
 * the latencies' p50/p99/max, requests/s and the answers that were not 200, plus p50/p99 of the requests sent
 * after the first 2 s (`steady*`: without the cold start of JIT, connections and caches, which the overall
 * figures include), this process's CPU per request and the bytes of a response body.
 *
 * Like wrk or autocannon, it speaks HTTP/1.1 on a raw socket instead of through node:http's client, whose
 * parser, agent and streams cost about 0.4 ms of CPU per request here: on two shared cores that was a fifth
 * of the machine, taken from the server under test. Every response is checked: status line, a
 * Content-Length and no transfer or content encoding (the API sends plain JSON with its length; anything
 * else fails the run), and `nextCursor` read from the end of the body. One body in `fullCheckEvery` is parsed
 * in full and its `items` and `nextCursor` compared with what was read, so a malformed answer cannot go
 * unnoticed.
 */
import { connect, type Socket } from 'node:net';

interface LoadSpec {
  readonly url: string;
  readonly clients: number;
  readonly seconds: number;
  /** [token, path-and-query] pairs: the mix. */
  readonly queries: readonly (readonly [string, string])[];
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
const target = new URL(spec.url);
const fullCheckEvery = 20;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
}

interface Answer {
  readonly status: number;
  /** The decoded body. */
  readonly text: string;
  readonly wireBytes: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** One keep-alive connection that sends a request and resolves with its answer, one at a time. */
class Connection {
  private readonly socket: Socket;
  private readonly ready: Promise<void>;
  private buffered: Buffer = Buffer.alloc(0);
  private pending: { resolve: (a: Answer) => void; reject: (e: Error) => void } | undefined;

  constructor() {
    this.socket = connect(Number(target.port), target.hostname);
    this.socket.setNoDelay(true);
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => this.fail(new Error('the server closed the connection')));
  }

  async get(path: string, token: string): Promise<Answer> {
    await this.ready;
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${target.host}\r\nAuthorization: Bearer ${token}\r\n\r\n`,
      );
    });
  }

  close(): void {
    this.socket.removeAllListeners('close');
    this.socket.destroy();
  }

  private fail(error: Error): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const headerEnd = this.buffered.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const head = this.buffered.toString('latin1', 0, headerEnd);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
    if (length === undefined) {
      this.fail(new Error(`an answer without Content-Length: ${head}`));
      return;
    }
    const bodyStart = headerEnd + 4;
    const bodyEnd = bodyStart + Number(length);
    if (this.buffered.length < bodyEnd) return;
    const raw = this.buffered.subarray(bodyStart, bodyEnd);
    this.buffered = this.buffered.subarray(bodyEnd);
    if (/\r\n(content-encoding|transfer-encoding):/i.test(head)) {
      this.fail(new Error(`an answer in an encoding this client does not read: ${head}`));
      return;
    }
    const text = raw.toString('utf8');
    const pending = this.pending;
    this.pending = undefined;
    pending?.resolve({ status, text, wireBytes: raw.length });
  }
}

const NEXT_CURSOR = '"nextCursor":';

/** `nextCursor` of a page body, read from its end (the API writes it last). */
function nextCursorOf(text: string): string | null {
  const at = text.lastIndexOf(NEXT_CURSOR);
  if (at < 0) throw new Error(`a page without nextCursor: ${text.slice(0, 200)}`);
  const value = text.slice(at + NEXT_CURSOR.length, text.length - 1);
  return value === 'null' ? null : (JSON.parse(value) as string);
}

/** Requests sent in the first WARM_UP_MS are left out of the "steady" percentiles (JIT, connections, caches). */
const WARM_UP_MS = 2_000;

interface Tally {
  readonly latencies: number[];
  readonly steady: number[];
  readonly errors: Map<number, number>;
  wireBytes: number;
  answers: number;
  fullChecks: number;
}

async function client(deadline: number, steadyFrom: number, tally: Tally): Promise<void> {
  const connection = new Connection();
  try {
    while (Date.now() < deadline) {
      const pick = spec.queries[Math.floor(Math.random() * spec.queries.length)];
      if (pick === undefined) return;
      const [token, path] = pick;
      const pages = 1 + Math.floor(Math.random() * 3);
      let cursor: string | null = null;
      for (let page = 0; page < pages && Date.now() < deadline; page++) {
        const sep = path.includes('?') ? '&' : '?';
        const started = performance.now();
        const answer = await connection.get(
          `${path}${cursor === null ? '' : `${sep}cursor=${cursor}`}`,
          token,
        );
        const latency = performance.now() - started;
        tally.latencies.push(latency);
        if (started >= steadyFrom) tally.steady.push(latency);
        if (answer.status !== 200) {
          tally.errors.set(answer.status, (tally.errors.get(answer.status) ?? 0) + 1);
          break;
        }
        tally.wireBytes += answer.wireBytes;
        cursor = nextCursorOf(answer.text);
        if (++tally.answers % fullCheckEvery === 0) {
          const body = JSON.parse(answer.text) as { items?: unknown; nextCursor?: unknown };
          if (!Array.isArray(body.items) || body.nextCursor !== cursor) {
            throw new Error(`a page whose nextCursor was misread: ${answer.text.slice(-200)}`);
          }
          tally.fullChecks++;
        }
        if (cursor === null) break;
      }
    }
  } finally {
    connection.close();
  }
}

async function main(): Promise<void> {
  const tally: Tally = {
    latencies: [],
    steady: [],
    errors: new Map(),
    wireBytes: 0,
    answers: 0,
    fullChecks: 0,
  };
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const deadline = Date.now() + spec.seconds * 1000;
  await Promise.all(
    Array.from({ length: spec.clients }, () => client(deadline, started + WARM_UP_MS, tally)),
  );
  const cpu = process.cpuUsage(cpuBefore);
  const elapsed = (performance.now() - started) / 1000;
  const sorted = tally.latencies.sort((a, b) => a - b);
  const steadySorted = tally.steady.sort((a, b) => a - b);
  process.stdout.write(
    `${JSON.stringify({
      requests: sorted.length,
      rps: sorted.length / elapsed,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: sorted.at(-1) ?? Number.NaN,
      steadyP50: percentile(steadySorted, 0.5),
      steadyP99: percentile(steadySorted, 0.99),
      errors: Object.fromEntries(tally.errors),
      clientCpuMs: (cpu.user + cpu.system) / 1000 / Math.max(1, sorted.length),
      wireBytesPerAnswer: tally.wireBytes / Math.max(1, tally.answers),
      fullChecks: tally.fullChecks,
    })}\n`,
  );
}

await main();
