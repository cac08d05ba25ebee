/**
 * The dev stack's webhook receiver: the failing example job alerts here, and each verified alert is printed,
 * so a newcomer sees the whole alert path (signed webhook, retries) without setting anything up. Signatures
 * are checked as a real receiver should (HMAC over `<timestamp>.<body>`, constant-time compare).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhook } from '@kisjobs/scheduler';

export interface AlertInbox {
  readonly url: string;
  close(): Promise<void>;
}

interface AlertBody {
  event?: string;
  job?: { name?: string };
  run?: { id?: string; attempt?: number; error?: { message?: string } | null };
}

export async function startAlertInbox(
  secret: string,
  port: number,
  onAlert: (line: string) => void,
): Promise<AlertInbox> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= 1_000_000) chunks.push(chunk);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const timestamp = String(req.headers[TIMESTAMP_HEADER] ?? '');
      const signature = String(req.headers[SIGNATURE_HEADER] ?? '');
      if (req.method !== 'POST' || !verifyWebhook(secret, timestamp, body, signature)) {
        res.writeHead(401).end();
        return;
      }
      try {
        const alert = JSON.parse(body) as AlertBody;
        onAlert(
          `alert ${alert.event ?? '?'}: job ${alert.job?.name ?? '?'}, run ${alert.run?.id ?? '?'} (attempt ${alert.run?.attempt ?? '?'}): ${alert.run?.error?.message ?? 'no error message'}`,
        );
      } catch {
        onAlert(`alert with a body that is not JSON (${body.length} bytes)`);
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/alerts`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
