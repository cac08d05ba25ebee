/**
 * The `global` document's Prometheus endpoint: with `prometheus_enable` and `prometheus_listen` both true,
 * serve `GET /metrics` from a prom-client Registry on `prometheus_serve` (host:port).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { GlobalConfig } from '../config/model.js';
import { messageOf } from '../engine/errors.js';

export interface PrometheusServer {
  /** `http://host:port/metrics`, with the port actually bound (useful with port 0). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** `host:port`, `[v6]:port` or `:port` (all interfaces). */
export function parseListenAddress(serve: string): { host: string; port: number } {
  const text = serve.trim();
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  if (match === null) throw new Error(`prometheus_serve: "${serve}" is not host:port`);
  const host = match[1] ?? (match[2] === undefined || match[2] === '' ? '0.0.0.0' : match[2]);
  const port = Number(match[3]);
  if (!(Number.isInteger(port) && port >= 0 && port < 65536)) {
    throw new Error(`prometheus_serve: port ${port} is out of range`);
  }
  return { host, port };
}

/**
 * Starts the endpoint when the config asks for it; resolves to undefined when it does not (enable or
 * listen is false). Rejects when `prometheus_serve` is missing or invalid, or the port is taken.
 */
export async function startPrometheusServer(
  global: GlobalConfig,
  register: Registry,
): Promise<PrometheusServer | undefined> {
  if (!global.prometheusEnable || !global.prometheusListen) return undefined;
  if (global.prometheusServe === undefined || global.prometheusServe.trim() === '') {
    throw new Error('prometheus_serve is required when prometheus_enable and prometheus_listen are true');
  }
  const { host, port } = parseListenAddress(global.prometheusServe);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    register.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': register.contentType });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${messageOf(err)}\n`);
      },
    );
  });
  await listen(server, host, port);
  const bound = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${urlHost}:${bound}/metrics`,
    host,
    port: bound,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
