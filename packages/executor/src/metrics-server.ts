/**
 * The runnable executor's HTTP endpoint (node:http, no framework), off unless a port is given:
 *   GET /metrics   Prometheus text from the given prom-client Registry
 *   GET /healthz   200 {"status":"ok"} while the executor is registered and its Redis connection is up;
 *                  503 {"status":"unavailable","registered":…,"redis":"up"|"down"} otherwise
 * HEAD works on both; another method is 405 with `Allow`, another path 404.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { MetricsServerError } from './errors.js';
import { errorMessage } from './logger.js';

export interface HealthState {
  readonly registered: boolean;
  readonly redisConnected: boolean;
}

export interface MetricsServerOptions {
  readonly host: string;
  /** 0: any free port (`url` then tells which). */
  readonly port: number;
  readonly registry: Registry;
  /** Read on every `/healthz`. */
  readonly health: () => HealthState;
}

export interface MetricsServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const ROUTES = new Set(['/metrics', '/healthz']);

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer((req, res) => void handle(options, req, res));
  try {
    await listen(server, options.host, options.port);
  } catch (error) {
    throw new MetricsServerError(options.host, options.port, error);
  }
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}

async function handle(
  options: MetricsServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const head = req.method === 'HEAD';
  if (!ROUTES.has(path)) return send(res, 404, 'application/json', '{"status":"not found"}', head);
  if (req.method !== 'GET' && !head) {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'application/json', '{"status":"method not allowed"}', false);
  }
  if (path === '/healthz') {
    const state = options.health();
    const ok = state.registered && state.redisConnected;
    const body = ok
      ? { status: 'ok' }
      : { status: 'unavailable', registered: state.registered, redis: state.redisConnected ? 'up' : 'down' };
    return send(res, ok ? 200 : 503, 'application/json', JSON.stringify(body), head);
  }
  try {
    const text = await options.registry.metrics();
    send(res, 200, options.registry.contentType, text, head);
  } catch (error) {
    send(res, 500, 'text/plain; charset=utf-8', `metrics failed: ${errorMessage(error)}\n`, head);
  }
}

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(head ? undefined : body);
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
