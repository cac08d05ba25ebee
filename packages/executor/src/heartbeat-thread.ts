/**
 * Entry of the heartbeat thread (started by heartbeat.ts through isolation/thread-bootstrap.mjs, which
 * registers the TypeScript loader). Deliberately small: its own Redis connection, the beat script of
 * registration.ts and the loop of heartbeat-beater.ts; nothing of the flow engine. Its log lines go to the main thread's logger by
 * message; only the alarm of withheld beats is written here, to stderr, since the main thread is stuck then.
 */
import { writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { HeartbeatBeater } from './heartbeat-beater.js';
import type { FromHeartbeatThread, HeartbeatThreadData, ToHeartbeatThread } from './heartbeat-messages.js';
import { threadData } from './isolation/thread-runtime.js';
import type { ExecutorLogger, ExecutorLogLevel, LogFields } from './logger.js';
import { closeRedis, createRedisClient } from './redis.js';
import { writeHeartbeat } from './registration.js';

if (parentPort === null) throw new Error('heartbeat-thread.ts must run in a worker thread');
const port = parentPort;
const data = threadData<HeartbeatThreadData>();
const post = (message: FromHeartbeatThread): void => port.postMessage(message);
const toMain =
  (level: ExecutorLogLevel) =>
  (msg: string, fields?: LogFields): void =>
    post({ type: 'log', level, msg, ...(fields === undefined ? {} : { fields }) });
const logger: ExecutorLogger = {
  debug: toMain('debug'),
  info: toMain('info'),
  warn: toMain('warn'),
  error: toMain('error'),
};

const redis = createRedisClient(data.redisUrl, data.connectionName, logger);
const beater = new HeartbeatBeater({
  instanceId: data.instanceId,
  intervalMs: data.intervalMs,
  mainStallLimitMs: data.mainStallLimitMs,
  write: (heartbeat) => writeHeartbeat(redis, data, heartbeat, data.ttlMs),
  post,
  alarm: (msg, fields) => {
    const line = { ts: new Date().toISOString(), level: 'error', msg, ...fields };
    const where = { instanceId: data.instanceId, group: data.group, thread: 'heartbeat' };
    try {
      writeSync(2, `${JSON.stringify({ ...line, ...where })}\n`);
    } catch {
      // stderr closed or full: the main thread logs the stall once it runs again
    }
  },
});

async function stop(): Promise<void> {
  beater.stop();
  await closeRedis(redis, 1_000); // QUIT answers the beat under way first; a dead server is cut off
  await beater.settled().catch(() => undefined);
  post({ type: 'stopped' });
  port.close();
}

port.on('message', (message: ToHeartbeatThread) => {
  if (message.type === 'stop') void stop();
  else beater.receive(message);
});
post({ type: 'ready' });
