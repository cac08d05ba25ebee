/**
 * The raw BullMQ baseline's consumer, in a process of its own like an executor: one Worker with a no-op
 * processor. `tsx bench/pipeline/raw-worker.ts <redisUrl> <prefix> <queue> <concurrency>`; prints "ready".
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const [url = 'redis://127.0.0.1:6379', prefix = '{bench}', queue = 'raw', concurrency = '50'] =
  process.argv.slice(2);
const connection = new Redis(url, { maxRetriesPerRequest: null });
const worker = new Worker(queue, async () => undefined, {
  connection,
  prefix,
  concurrency: Number(concurrency),
  removeOnComplete: { count: 1_000 },
  maxStalledCount: 0,
});
await worker.waitUntilReady();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void worker.close().then(() => {
    connection.disconnect();
    process.exit(0);
  });
});
