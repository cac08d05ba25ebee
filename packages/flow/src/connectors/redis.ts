/**
 * The `redis` connector type (ioredis). Save and Load functions reach it as `ctx.connector`: the raw
 * client, plus key helpers under the connector's `key` prefix and pipelined hash helpers for per-key
 * aggregates. Connecting is bounded: a refused or silent server fails the initialisation within
 * `connect_timeout_ms`, with no reconnect loop; after a successful start the client reconnects on its own.
 */
import { Redis, type ChainableCommander, type RedisOptions } from 'ioredis';
import { defineConnectorType } from '../authoring.js';
import type { ConnConfig } from '../config/model.js';
import { messageOf } from '../engine/errors.js';
import { raceSignal } from '../engine/timing.js';
import type { Connector, ConnectorHelpers } from '../engine/types.js';
import { describeTarget, joinKey, redisSettings, type RedisSettings } from './redis-settings.js';

export interface HashIncrement {
  /** Key parts under the prefix (joined with `:`). */
  readonly key: string | readonly (string | number)[];
  readonly field: string;
  readonly by: number;
}

export interface RedisConnector extends Connector {
  readonly type: 'redis';
  readonly name: string;
  readonly client: Redis;
  /** The connector's `key`. */
  readonly prefix: string;
  /** `prefix:part:part`. */
  key(...parts: (string | number)[]): string;
  /** HINCRBY on `key(...keyParts)`; integer increments. */
  hincrby(keyParts: string | readonly (string | number)[], field: string, by: number): Promise<number>;
  /** Many HINCRBYs in one round trip (a pipeline). */
  hincrbyMany(increments: readonly HashIncrement[]): Promise<void>;
  hgetall(keyParts: string | readonly (string | number)[]): Promise<Record<string, string>>;
  /** HGETALL of many keys in one round trip, in order. */
  hgetallMany(keys: readonly (string | readonly (string | number)[])[]): Promise<Record<string, string>[]>;
  /** A raw ioredis pipeline (use `key()` for key names); `exec` it yourself. */
  pipeline(): ChainableCommander;
  close(): Promise<void>;
}

const CLOSE_GRACE_MS = 1000;

function partsOf(key: string | readonly (string | number)[]): readonly (string | number)[] {
  return typeof key === 'string' ? [key] : key;
}

/** Runs a pipeline and throws the first command error (ioredis reports them per command). */
async function execPipeline(pipeline: ChainableCommander): Promise<unknown[]> {
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

function clientOptions(settings: RedisSettings, isStarted: () => boolean): RedisOptions {
  const options: RedisOptions = {
    lazyConnect: true,
    connectTimeout: settings.connectTimeoutMs,
    // Before the first connection: fail at once. After: reconnect with backoff, and fail single commands
    // after a few tries instead of queueing them for ever.
    retryStrategy: (times) => (isStarted() ? Math.min(times * 200, 2000) : null),
    maxRetriesPerRequest: 2,
  };
  if (settings.db !== undefined) options.db = settings.db;
  if (settings.username !== undefined) options.username = settings.username;
  if (settings.password !== undefined) options.password = settings.password;
  if (settings.commandTimeoutMs !== undefined) options.commandTimeout = settings.commandTimeoutMs;
  if (settings.clientName !== undefined) options.connectionName = settings.clientName;
  return options;
}

export async function createRedisConnector(
  conf: ConnConfig,
  helpers: ConnectorHelpers,
): Promise<RedisConnector> {
  const checked = redisSettings(conf);
  if (!checked.ok) throw new Error(`redis connector "${conf.name}": ${checked.issues.join('; ')}`);
  const settings = checked.settings;
  const target = describeTarget(settings);
  let started = false;
  let lastError: unknown;
  const options = clientOptions(settings, () => started);
  const client =
    settings.url === undefined
      ? new Redis({ ...options, host: settings.host, port: settings.port })
      : new Redis(settings.url, options);
  client.on('error', (err: unknown) => {
    lastError = err;
    if (started)
      helpers.logger.warn('redis connector error', { connector: conf.name, error: messageOf(err) });
  });
  // connectTimeout covers the TCP connect only; a server that accepts and then stays silent would hold the
  // ready check for ever, so the whole handshake gets the same bound.
  const handshake = new AbortController();
  const handshakeTimer = setTimeout(
    () => handshake.abort(new Error(`no answer within ${settings.connectTimeoutMs} ms`)),
    settings.connectTimeoutMs,
  );
  try {
    const stop = AbortSignal.any([helpers.signal, handshake.signal]);
    await raceSignal(client.connect(), stop, () =>
      stop.reason instanceof Error ? stop.reason : new Error('initialisation aborted'),
    );
  } catch (err) {
    client.disconnect();
    const reason =
      lastError !== undefined && lastError !== err
        ? `${messageOf(err)} (${messageOf(lastError)})`
        : messageOf(err);
    throw new Error(
      `cannot connect to redis at ${target} within ${settings.connectTimeoutMs} ms: ${reason}`,
      {
        cause: err,
      },
    );
  } finally {
    clearTimeout(handshakeTimer);
  }
  started = true;
  helpers.logger.debug('redis connector ready', { connector: conf.name, target });

  const prefix = settings.prefix;
  const key = (...parts: (string | number)[]): string => joinKey(prefix, parts);
  const keyOf = (k: string | readonly (string | number)[]): string => joinKey(prefix, partsOf(k));
  return {
    type: 'redis',
    name: conf.name,
    client,
    prefix,
    key,
    hincrby: (k, field, by) => client.hincrby(keyOf(k), field, by),
    async hincrbyMany(increments) {
      if (increments.length === 0) return;
      const pipeline = client.pipeline();
      for (const inc of increments) pipeline.hincrby(keyOf(inc.key), inc.field, inc.by);
      await execPipeline(pipeline);
    },
    hgetall: (k) => client.hgetall(keyOf(k)),
    async hgetallMany(keys) {
      if (keys.length === 0) return [];
      const pipeline = client.pipeline();
      for (const k of keys) pipeline.hgetall(keyOf(k));
      const replies = await execPipeline(pipeline);
      return replies.map((r) => (r ?? {}) as Record<string, string>);
    },
    pipeline: () => client.pipeline(),
    async close() {
      started = false;
      if (client.status === 'end') return;
      // QUIT, then wait for the socket to end; a server that does not answer gets disconnected.
      const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), CLOSE_GRACE_MS);
      });
      try {
        const quit = client.quit().catch(() => undefined);
        const done = Promise.all([quit, ended]).then(() => 'done' as const);
        if ((await Promise.race([done, grace])) === 'late') client.disconnect();
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Register with `registry.registerConnectorType(redisConnectorType)`. */
export const redisConnectorType = defineConnectorType<RedisConnector>('redis', createRedisConnector);
