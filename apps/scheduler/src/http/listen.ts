/**
 * Serving an app: `listen` starts an HTTP server with bounded timeouts and returns a handle whose `close()`
 * shuts down gracefully: stop accepting, close idle keep-alive connections, end streams (the app's shutdown
 * signal aborts them), let requests in flight finish for up to `graceMs`, then cut what is left.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Logger } from '../registry/ports.js';

export interface ListenOptions {
  /** How long `close()` waits for requests in flight (default 5 s). */
  readonly graceMs?: number;
  /** Longest time to receive a whole request (default 30 s; Node's default is 5 min). */
  readonly requestTimeoutMs?: number;
}

export interface HttpServerHandle {
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  close(): Promise<void>;
}

export async function listen(
  app: Express,
  options: ListenOptions & {
    readonly port: number;
    readonly host: string;
    readonly shutdown: AbortController;
    readonly logger: Logger;
  },
): Promise<HttpServerHandle> {
  const server = createServer(app);
  // Requests the HTTP parser itself refuses (an unknown method, a broken request line or header) never reach
  // Express: answer them in the one error shape too, and close the connection.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const timeout = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const body = JSON.stringify({
      error: { code: 'VALIDATION_FAILED', message: timeout ? 'Request timed out' : 'Malformed HTTP request' },
    });
    socket.end(
      `HTTP/1.1 ${timeout ? '408 Request Timeout' : '400 Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  server.requestTimeout = options.requestTimeoutMs ?? 30_000;
  server.headersTimeout = Math.min(server.requestTimeout, 20_000);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  options.logger.info('http api listening', { url: `http://${host}:${address.port}` });
  let closing: Promise<void> | undefined;
  return {
    server,
    host: address.address,
    port: address.port,
    url: `http://${host}:${address.port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        const graceMs = options.graceMs ?? 5_000;
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        // Connections whose request finishes during the grace period become idle: close them as they do.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        server.close(() => {
          clearTimeout(force);
          clearInterval(sweep);
          resolve();
        });
        options.shutdown.abort();
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
