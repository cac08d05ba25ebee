/**
 * A scheduler process for the schedule end-to-end tests: `createScheduler` (registry, dispatcher,
 * ingestion, lost-run detector, schedule engine) on the test's database and Redis prefix, with the engine
 * tuned from `KISJOBS_TEST_SCHEDULE` (JSON). `KISJOBS_TEST_SCHEDULE_START_AT` (epoch ms) holds the engine
 * back until that instant while everything else runs, so a test knows exactly when scheduling resumed.
 * Logs JSON lines on stdout; SIGTERM closes in order; the tests also kill it with SIGKILL.
 */
import { createDb } from '@kisjobs/db';
import { createJsonLogger, createScheduler, type SchedulerOptions } from '@kisjobs/scheduler';

const env = process.env;
const required = (name: string): string => {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
};

const tuning = JSON.parse(env['KISJOBS_TEST_SCHEDULE'] ?? '{}') as NonNullable<SchedulerOptions['schedule']>;
const startAt =
  env['KISJOBS_TEST_SCHEDULE_START_AT'] === undefined
    ? undefined
    : Number(env['KISJOBS_TEST_SCHEDULE_START_AT']);
const logger = createJsonLogger({
  level: (env['KISJOBS_LOG_LEVEL'] as 'debug' | 'info' | 'warn' | 'error' | undefined) ?? 'info',
  base: { service: 'test-scheduler', replica: env['KISJOBS_TEST_REPLICA'] ?? '' },
});
const db = createDb({
  url: required('DATABASE_URL'),
  poolMax: 10,
  onPoolError: (error) => logger.warn('postgres connection error', { error: error.message }),
});
const scheduler = createScheduler({
  prisma: db.prisma,
  redisUrl: required('REDIS_URL'),
  prefix: required('KISJOBS_PREFIX'),
  consumerName: required('KISJOBS_CONSUMER_NAME'),
  logger,
  schedule: { ...tuning, enabled: startAt === undefined },
  ...(env['KISJOBS_SWEEP_INTERVAL_MS'] === undefined
    ? {}
    : { dispatch: { sweepIntervalMs: Number(env['KISJOBS_SWEEP_INTERVAL_MS']) } }),
});

let stopping: Promise<void> | undefined;
const stop = (): void => {
  stopping ??= (async () => {
    await scheduler.close();
    await db.close();
    logger.info('test scheduler stopped');
    process.exit(0);
  })();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

await scheduler.start();
logger.info('test scheduler ready', { instanceId: scheduler.schedule.instanceId });
if (startAt !== undefined) {
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
  if (stopping === undefined) {
    scheduler.schedule.start();
    logger.info('schedule engine started', { at: new Date().toISOString() });
  }
}
