/**
 * The runnable executor: settings from flags and env (env.ts), one JSON log line per event on stdout,
 * SIGTERM / SIGINT drain and deregister then exit 0; a refused token exits 78; bad settings exit 64.
 * Started through kisjobs-executor.mjs, which registers the TypeScript loader first.
 */
import { createExecutor, type Executor } from '../executor.js';
import { ExecutorTokenInvalidError } from '../errors.js';
import { createJsonLogger } from '../logger.js';
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
  try {
    executor = createExecutor({
      redisUrl: s.redisUrl,
      prefix: s.prefix,
      group: s.group,
      token: s.token,
      tokenSource: s.tokenSource,
      functions: s.functions,
      concurrency: s.concurrency,
      ...(s.instanceId === undefined ? {} : { instanceId: s.instanceId }),
      ...(s.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: s.drainTimeoutMs }),
      logger,
    });
  } catch (error) {
    logger.error(`invalid settings: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT_CODES.usage;
  }

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
    return error instanceof ExecutorTokenInvalidError ? EXIT_CODES.tokenInvalid : EXIT_CODES.failure;
  }
  await executor.closed;
  return EXIT_CODES.ok;
}

process.exit(await main());
