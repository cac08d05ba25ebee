/**
 * The executor's Redis connections. Commands never fail for a lost connection: `maxRetriesPerRequest: null`
 * keeps them in ioredis' offline queue until Redis is back (BullMQ needs the same setting on a shared
 * connection), which is what keeps run events from being dropped during a short outage.
 */
import { Redis } from 'ioredis';
import { errorMessage, type ExecutorLogger } from './logger.js';

export function createRedisClient(url: string, connectionName: string, logger: ExecutorLogger): Redis {
  const client = new Redis(url, {
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    connectionName,
  });
  watchConnection(client, connectionName, logger);
  return client;
}

/** Logs an outage once when it starts and once when it ends (ioredis emits an error per retry). */
export function watchConnection(client: Redis, name: string, logger: ExecutorLogger): void {
  let down = false;
  client.on('error', (error: unknown) => {
    if (down) return;
    down = true;
    logger.warn('redis connection lost; commands wait until it is back', {
      connection: name,
      error: errorMessage(error),
    });
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info('redis connection is back', { connection: name });
  });
}

/** QUIT, or a hard disconnect when Redis does not answer within `timeoutMs`. */
export async function closeRedis(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'end') return;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const result = await Promise.race([client.quit().then(() => 'ok' as const), timedOut]);
    if (result === 'timeout') client.disconnect();
  } catch {
    client.disconnect();
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with `promise`'s value, or with `fallback` after `timeoutMs`. Never rejects for the timeout. */
export async function withTimeout<T, F>(promise: Promise<T>, timeoutMs: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), timeoutMs);
  });
  try {
    return await Promise.race([promise, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
