/**
 * The runnable executor: settings from flags and env (env.ts), one JSON log line per event on stdout,
 * SIGTERM / SIGINT drain and deregister then exit 0; a refused token exits 78; bad settings exit 64.
 * With `--metrics-port`, GET /metrics and /healthz are served (metrics.ts, metrics-server.ts) from a
 * Registry made here, from before registration until the executor has closed; a port that cannot be bound
 * exits 1 before anything registers. Started through kisjobs-executor.mjs, which registers the TypeScript
 * loader first.
 */
import { Registry } from 'prom-client';
import { createExecutor, type Executor } from '../executor.js';
import { ExecutorTokenInvalidError } from '../errors.js';
import { createJsonLogger, errorMessage } from '../logger.js';
import { createExecutorMetrics } from '../metrics.js';
import { startMetricsServer, type MetricsServer } from '../metrics-server.js';
import { EXIT_CODES, USAGE, parseExecutorSettings } from './env.js';

async function main(): Promise<number> {
  const boot = parseExecutorSettings(process.argv.slice(2), process.env, { cwd: process.cwd() });
  const write = (line: string): void => void process.stdout.write(line);
  if (boot.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_CODES.ok;
  }
  if (boot.kind === 'invalid') {
    const logger = createJsonLogger({ write, base: { service: 'kisjobs-executor' } });
    const problems = boot.issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    logger.error(`invalid settings: ${problems}`, { issues: boot.issues });
    process.stderr.write(`${USAGE}\n`);
    return EXIT_CODES.usage;
  }
  const s = boot.settings;
  const logger = createJsonLogger({ write, level: s.logLevel, base: { service: 'kisjobs-executor' } });
  let executor: Executor;
  const registry = s.metrics === undefined ? undefined : new Registry();
  let created: Executor | undefined;
  const observer =
    registry === undefined ? undefined : createExecutorMetrics(registry, () => created?.stats());
  try {
    executor = createExecutor({
      redisUrl: s.redisUrl,
      prefix: s.prefix,
      group: s.group,
      token: s.token,
      tokenSource: s.tokenSource,
      functions: s.functions,
      concurrency: s.concurrency,
      ...(s.warmThreads === undefined ? {} : { warmThreads: s.warmThreads }),
      ...(s.instanceId === undefined ? {} : { instanceId: s.instanceId }),
      ...(s.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: s.drainTimeoutMs }),
      ...(s.mainStallLimitMs === undefined ? {} : { mainStallLimitMs: s.mainStallLimitMs }),
      ...(observer === undefined ? {} : { observer }),
      logger,
    });
    created = executor;
  } catch (error) {
    logger.error(`invalid settings: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT_CODES.usage;
  }

  let metrics: MetricsServer | undefined;
  if (s.metrics !== undefined && registry !== undefined) {
    try {
      metrics = await startMetricsServer({
        ...s.metrics,
        registry,
        health: () => executor.stats(),
      });
    } catch (error) {
      logger.error(errorMessage(error));
      return EXIT_CODES.failure;
    }
    logger.info('metrics endpoint listening', { url: `${metrics.url}/metrics`, port: metrics.port });
  }
  const closeMetrics = async (): Promise<void> => {
    await metrics
      ?.close()
      .catch((error: unknown) =>
        logger.warn('closing the metrics endpoint failed', { error: errorMessage(error) }),
      );
  };

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      logger.warn(`${signal} again: exiting without draining`);
      process.exit(EXIT_CODES.failure);
    }
    logger.info(`${signal} received: draining`);
    void executor.close(signal === 'SIGTERM' ? 'shutdown (SIGTERM)' : 'shutdown (SIGINT)');
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    await executor.start();
  } catch (error) {
    // The executor has logged the reason (one line for a refused token).
    await closeMetrics();
    return error instanceof ExecutorTokenInvalidError ? EXIT_CODES.tokenInvalid : EXIT_CODES.failure;
  }
  await executor.closed;
  await closeMetrics();
  return EXIT_CODES.ok;
}

process.exit(await main());
