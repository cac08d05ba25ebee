/**
 * Compiles a `type: redis` connector config into resolved connection settings (pure, no I/O).
 * - `addrs`: a `redis://` / `rediss://` URL, or comma-separated `host:port` (the first is used);
 * - `key`: the key prefix of everything the connector's helpers touch;
 * - `params`: `db`, `username`, `password`, `connect_timeout_ms` (default 3000), `command_timeout_ms`,
 *   `client_name` (CLIENT SETNAME, to spot the connection in CLIENT LIST).
 */
import type { ConnConfig } from '../config/model.js';

export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 3000;

export interface RedisSettings {
  /** Set when `addrs` is a URL; host/port then come from the URL. */
  readonly url: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly db: number | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number | undefined;
  readonly clientName: string | undefined;
  readonly prefix: string;
}

export type RedisSettingsResult =
  | { readonly ok: true; readonly settings: RedisSettings }
  | { readonly ok: false; readonly issues: readonly string[] };

function parseHostPort(addr: string, issues: string[]): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(addr);
  if (bracketed !== null) {
    return { host: bracketed[1] ?? '', port: bracketed[2] === undefined ? 6379 : Number(bracketed[2]) };
  }
  const colon = addr.lastIndexOf(':');
  if (colon === -1) return { host: addr, port: 6379 };
  const portText = addr.slice(colon + 1);
  if (!/^\d+$/.test(portText)) {
    issues.push(`addrs: "${addr}" has no valid port`);
    return { host: addr.slice(0, colon), port: 6379 };
  }
  return { host: addr.slice(0, colon), port: Number(portText) };
}

function intParam(
  params: ConnConfig['params'],
  name: string,
  min: number,
  issues: string[],
): number | undefined {
  const text = Object.hasOwn(params, name) ? params[name] : undefined;
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    issues.push(`params.${name}: "${text}" is not an integer >= ${min}`);
    return undefined;
  }
  return n;
}

function stringParam(params: ConnConfig['params'], name: string): string | undefined {
  const text = Object.hasOwn(params, name) ? params[name] : undefined;
  return text === undefined || text === '' ? undefined : text;
}

export function redisSettings(conf: ConnConfig): RedisSettingsResult {
  const issues: string[] = [];
  const addrs = conf.addrs.trim();
  let url: string | undefined;
  let host = '';
  let port = 6379;
  if (/^rediss?:\/\//i.test(addrs)) {
    try {
      const parsed = new URL(addrs);
      url = addrs;
      host = parsed.hostname;
      port = parsed.port === '' ? 6379 : Number(parsed.port);
    } catch {
      issues.push(`addrs: "${addrs}" is not a valid redis URL`);
    }
  } else {
    const first = addrs
      .split(',')
      .map((a) => a.trim())
      .find((a) => a !== '');
    if (first === undefined) issues.push('addrs: no address given');
    else ({ host, port } = parseHostPort(first, issues));
  }
  if (url === undefined && host === '' && issues.length === 0) issues.push('addrs: empty host');
  if (!(Number.isInteger(port) && port > 0 && port < 65536))
    issues.push(`addrs: port ${port} is out of range`);
  const db = intParam(conf.params, 'db', 0, issues);
  const connectTimeoutMs = intParam(conf.params, 'connect_timeout_ms', 1, issues);
  const commandTimeoutMs = intParam(conf.params, 'command_timeout_ms', 1, issues);
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    settings: {
      url,
      host,
      port,
      db,
      username: stringParam(conf.params, 'username'),
      password: stringParam(conf.params, 'password'),
      connectTimeoutMs: connectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
      commandTimeoutMs,
      clientName: stringParam(conf.params, 'client_name'),
      prefix: conf.key,
    },
  };
}

/** `prefix:part:part`; with an empty prefix, just the parts. */
export function joinKey(prefix: string, parts: readonly (string | number)[]): string {
  const tail = parts.map(String).join(':');
  if (prefix === '') return tail;
  return tail === '' ? prefix : `${prefix}:${tail}`;
}

/** Where the settings point, for messages (never the password). */
export function describeTarget(settings: RedisSettings): string {
  return `${settings.host}:${settings.port}${settings.db === undefined ? '' : `/${settings.db}`}`;
}
