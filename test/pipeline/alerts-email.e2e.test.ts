/**
 * E-mail alerts end to end: runs that really fail on a real executor reach a real local SMTP server
 * (`smtp-server`, with a login) as one message per address, from the configured sender, naming the job, the
 * run and its ending. A server that answers 451 twice gets the same message a third time, after backoff
 * delays that double; a 550 is not retried; a second report of the same ending sends nothing more.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@kisjobs/testing';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

interface Received {
  readonly mailFrom: string;
  readonly rcptTo: readonly string[];
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

const USER = 'alerts';
const PASS = 'a mail password';
const FROM = 'KisJobs Alerts <alerts@kisjobs.test>';
const BASE_DELAY_MS = 300;
let p: Pipeline;
let server: SMTPServer;
const received: Received[] = [];
/** RCPT TO tries per address, with when they came. */
const tries = new Map<string, number[]>();
/** Reply codes to answer RCPT TO per address, in order; then accepted. */
const script = new Map<string, number[]>();

/** Headers (unfolded, names lower-cased) and the decoded text of a raw message. */
function parseMessage(raw: string): { headers: Map<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n(?=[ \t])/g, '');
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  let body = raw.slice(split + 4);
  if (headers.get('content-transfer-encoding')?.toLowerCase() === 'quoted-printable') {
    const bytes = body
      .replace(/=\r\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    body = Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return { headers, body: body.replace(/\r\n/g, '\n') };
}

beforeAll(async () => {
  server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (auth.username === USER && auth.password === PASS) callback(null, { user: USER });
      else callback(new Error('Invalid username or password'));
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      tries.set(address.address, [...(tries.get(address.address) ?? []), Date.now()]);
      const code = script.get(address.address)?.shift();
      if (code === undefined) callback();
      else callback(Object.assign(new Error(`scripted ${code}`), { responseCode: code }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const { headers, body } = parseMessage(Buffer.concat(chunks).toString('utf8'));
        received.push({
          mailFrom: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          rcptTo: session.envelope.rcptTo.map((a) => a.address),
          headers,
          body,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  p = await startPipeline('e2e-alerts-email', {
    alerts: {
      pollMs: 100,
      baseDelayMs: BASE_DELAY_MS,
      maxAttempts: 4,
      smtp: { url: `smtp://${USER}:${encodeURIComponent(PASS)}@127.0.0.1:${port}`, from: FROM },
    },
  });
  await p.spawnExecutor({ instanceId: 'alerts-mail-a', concurrency: 4 });
});
afterAll(async () => {
  await p?.close();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(resolve)));
});

const mailTo = (to: string[], on: string[] = ['failed', 'timed_out', 'lost']) => ({
  alerts: { on, email: { to } },
});
const to = (address: string) => received.filter((r) => r.rcptTo.includes(address));
const deliveries = (runId: string) =>
  p.prisma.alertDelivery.findMany({ where: { runId }, orderBy: { target: 'asc' } });

describe('e-mail alerts', () => {
  it('sends one message per address, from the configured sender, naming job, run and ending', async () => {
    const addresses = ['ops@example.com', 'oncall@example.org'];
    const jobId = await p.job({ flowName: 'throw', ...mailTo(addresses) });
    const job = await p.prisma.job.findUniqueOrThrow({ where: { id: jobId }, include: { scene: true } });
    const [runId = ''] = await p.trigger(jobId);
    await p.waitStatus(runId, 'failed');
    await waitFor(() => addresses.every((a) => to(a).length === 1), {
      timeoutMs: 15_000,
      message: 'a message to each address',
    });
    const rows = await deliveries(runId);
    await waitFor(async () => (await deliveries(runId)).every((r) => r.status === 'delivered'), {
      timeoutMs: 5_000,
      message: 'delivered',
    });
    expect(rows.map((r) => [r.channel, r.target])).toEqual([
      ['email', 'oncall@example.org'],
      ['email', 'ops@example.com'],
    ]);
    for (const address of addresses) {
      const [message] = to(address);
      const row = rows.find((r) => r.target === address);
      expect(message?.mailFrom).toBe('alerts@kisjobs.test');
      expect(message?.rcptTo).toEqual([address]);
      expect(message?.headers.get('from')).toBe(FROM);
      expect(message?.headers.get('to')).toBe(address);
      expect(message?.headers.get('subject')).toBe(`[KisJobs] ${job.name}: run ${runId} failed`);
      expect(message?.headers.get('message-id')).toBe(`<${row?.id}@kisjobs.test>`);
      expect(message?.headers.get('x-kisjobs-delivery')).toBe(row?.id);
      expect(message?.headers.get('x-kisjobs-event')).toBe('run.failed');
      const body = message?.body ?? '';
      expect(body).toContain(`Job:       ${job.name} (${jobId})`);
      expect(body).toContain(`Scene:     ${job.scene.name} (${job.sceneId})`);
      expect(body).toContain(`Run:       ${runId}`);
      expect(body).toContain('Status:    failed');
      expect(body).toMatch(/Error: +\S+: .*the data is bad/);
      expect(body).toMatch(/Started: +\d{4}-\d\d-\d\dT/);
      expect(body).toMatch(/Finished: +\d{4}-\d\d-\d\dT/);
    }
    // The same ending reported again alerts once.
    expect(await p.scheduler.alerts.enqueue([runId])).toBe(0);
    expect((await deliveries(runId)).every((r) => r.attempts === 1)).toBe(true);
  });

  it('retries a 451 with doubling delays until the server takes the message', async () => {
    const address = 'greylisted@example.com';
    script.set(address, [451, 451]);
    const jobId = await p.job({ flowName: 'throw', ...mailTo([address]) });
    const [runId = ''] = await p.trigger(jobId);
    await p.waitStatus(runId, 'failed');
    await waitFor(() => to(address).length === 1, {
      timeoutMs: 15_000,
      message: 'the message after retries',
    });
    const times = tries.get(address) ?? [];
    expect(times).toHaveLength(3);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(BASE_DELAY_MS);
    expect((times[2] ?? 0) - (times[1] ?? 0)).toBeGreaterThanOrEqual(2 * BASE_DELAY_MS);
    await waitFor(async () => (await deliveries(runId))[0]?.status === 'delivered', {
      timeoutMs: 5_000,
      message: 'delivered',
    });
    const [row] = await deliveries(runId);
    expect(row).toMatchObject({ status: 'delivered', attempts: 3, lastError: null });
    expect(to(address)[0]?.headers.get('subject')).toContain(runId);
  });

  it('does not retry a 550, and records the server answer', async () => {
    const address = 'nobody@example.com';
    script.set(address, [550]);
    const jobId = await p.job({ flowName: 'throw', ...mailTo([address]) });
    const [runId = ''] = await p.trigger(jobId);
    await p.waitStatus(runId, 'failed');
    await waitFor(async () => (await deliveries(runId))[0]?.status === 'failed', {
      timeoutMs: 10_000,
      message: 'given up',
    });
    await new Promise((r) => setTimeout(r, 3 * BASE_DELAY_MS));
    expect(tries.get(address)).toHaveLength(1);
    expect(to(address)).toEqual([]);
    const [row] = await deliveries(runId);
    expect(row?.attempts).toBe(1);
    expect(row?.lastError).toContain('550');
  });

  it('sends nothing for an ending the job did not ask about', async () => {
    const address = 'failures-only@example.com';
    const jobId = await p.job({
      flowName: 'sleep',
      params: { ms: '5000' },
      timeoutMs: 300,
      ...mailTo([address], ['failed']),
    });
    const [runId = ''] = await p.trigger(jobId);
    await p.waitStatus(runId, 'timed_out', 15_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(tries.get(address)).toBeUndefined();
    expect(await deliveries(runId)).toEqual([]);
  });
});
