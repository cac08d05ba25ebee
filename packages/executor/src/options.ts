/**
 * Executor options: what a caller passes (`ExecutorOptions`, zod-validated) compiled once into
 * `ResolvedExecutorOptions`, with every default applied and durations in `…Ms`. The rest of the package sees
 * only the resolved type.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import {
  DEFAULT_KEY_PREFIX,
  GroupName,
  HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_TTL_MS,
  InstanceId,
  KeyPrefix,
  LogLevel,
  ValidationError,
  createKeyspace,
  toValidationIssues,
  type Keyspace,
} from '@kisjobs/protocol';
import { createSilentLogger, type ExecutorLogger } from './logger.js';
import { guardObserver, type ExecutorObserver, type GuardedObserver } from './observer.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** `mainStallLimitMs` when not given. */
const DEFAULT_MAIN_STALL_LIMIT_MS = 30_000;
const ms = (max: number) => z.number().int().min(0).max(max);

const isObserver = (value: unknown): value is ExecutorObserver =>
  typeof value === 'object' &&
  value !== null &&
  ['runStarted', 'runFinished', 'heartbeatFailed'].every((m) => {
    const hook = (value as Record<string, unknown>)[m];
    return hook === undefined || typeof hook === 'function';
  });

const isLogger = (value: unknown): value is ExecutorLogger =>
  typeof value === 'object' &&
  value !== null &&
  ['debug', 'info', 'warn', 'error'].every(
    (m) => typeof (value as Record<string, unknown>)[m] === 'function',
  );

export const ExecutorOptions = z
  .object({
    /** `redis://` or `rediss://` URL of the Redis the scheduler uses. */
    redisUrl: z.string().regex(/^rediss?:\/\/\S+$/, { message: 'Expected a redis:// or rediss:// URL' }),
    /** Keyspace prefix (the text inside the hash tag). Default `kisjobs`. */
    prefix: KeyPrefix.default(DEFAULT_KEY_PREFIX),
    group: GroupName,
    /** The group's registration token (plaintext; only its hash is ever sent to Redis). */
    token: z.string().min(16).max(512),
    /** Where the token came from, named in the refusal message, e.g. `KISJOBS_TOKEN`. */
    tokenSource: z.string().min(1).max(200).default('the token option'),
    /** Path or file URL of the functions module; every isolation thread imports it. */
    functions: z.union([z.string().min(1), z.instanceof(URL)]),
    /** Stable for the process lifetime. Default `<hostname>-<pid>-<random>`. */
    instanceId: InstanceId.optional(),
    host: z.string().min(1).max(255).optional(),
    /** Runs at once (= isolation threads). Default 10. */
    concurrency: z.number().int().min(1).max(1_000).default(10),
    /** The executor build. Default: this package's version. */
    version: z.string().min(1).max(64).optional(),
    /** How long a shutdown or drain waits for active runs before terminating them. Default 30 s. */
    drainTimeoutMs: ms(DAY_MS).default(30_000),
    /** How long a stopped run may take to end by itself before its thread is killed. Default 500 ms. */
    cancelGraceMs: z.number().int().min(1).max(10_000).default(500),
    heartbeatIntervalMs: z.number().int().min(50).max(60_000).default(HEARTBEAT_INTERVAL_MS),
    heartbeatTtlMs: z.number().int().min(100).max(600_000).default(HEARTBEAT_TTL_MS),
    /**
     * Heartbeats are sent from a thread of their own, so a busy main event loop does not stop them; but once
     * the main event loop has not answered that thread for this long, it withholds them, so that a wedged
     * executor still goes offline and its runs are retried elsewhere. Default 30 s.
     */
    mainStallLimitMs: z.number().int().min(1_000).max(DAY_MS).default(DEFAULT_MAIN_STALL_LIMIT_MS),
    /** BullMQ job lock; renewed every half of it while a run is active. Default 10 s. */
    lockDurationMs: z.number().int().min(1_000).max(600_000).default(10_000),
    /** BullMQ stalled-job check period. Default 5 s. */
    stalledIntervalMs: z.number().int().min(500).max(600_000).default(5_000),
    /** Log lines are written to Redis in batches: at least this often... Default 100 ms. */
    logFlushIntervalMs: z.number().int().min(1).max(10_000).default(100),
    /** ...or as soon as this many are waiting. Default 500. */
    logBatchLines: z.number().int().min(1).max(100_000).default(500),
    /** A run's lines beyond this are dropped (one warning line says how many). Default 10,000. */
    maxLogLinesPerRun: z.number().int().min(1).max(10_000_000).default(10_000),
    /** Run log lines below this level are not sent. Default `info`. */
    runLogLevel: LogLevel.default('info'),
    /** Bound on flushing events and deregistering at shutdown when Redis does not answer. Default 10 s. */
    closeTimeoutMs: ms(600_000).default(10_000),
    /** Completed and failed BullMQ jobs kept (they make a re-enqueue of the same run id a no-op). */
    keepCompletedJobs: z.number().int().min(0).max(1_000_000).default(1_000),
    keepCompletedForMs: ms(30 * DAY_MS).default(DAY_MS),
    /** Threads started with the executor, before the first run. Default 1 (also proves the module loads). */
    warmThreads: z.number().int().min(0).max(1_000).default(1),
    logger: z
      .custom<ExecutorLogger>(isLogger, { message: 'Expected a logger with debug, info, warn, error' })
      .optional(),
    /** Told about runs and heartbeat failures (metrics.ts records them in a prom-client Registry). */
    observer: z
      .custom<ExecutorObserver>(isObserver, {
        message: 'Expected an object whose runStarted, runFinished, heartbeatFailed are functions',
      })
      .optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.heartbeatTtlMs <= value.heartbeatIntervalMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['heartbeatTtlMs'],
        message: 'must be longer than heartbeatIntervalMs',
      });
    }
  });
export type ExecutorOptions = z.input<typeof ExecutorOptions>;

export interface ResolvedExecutorOptions {
  readonly redisUrl: string;
  readonly keyspace: Keyspace;
  readonly group: string;
  readonly token: string;
  readonly tokenSource: string;
  /** `file:` URL of the functions module. */
  readonly functionsUrl: string;
  readonly instanceId: string;
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  readonly concurrency: number;
  readonly drainTimeoutMs: number;
  readonly cancelGraceMs: number;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTtlMs: number;
  readonly mainStallLimitMs: number;
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly logFlushIntervalMs: number;
  readonly logBatchLines: number;
  readonly maxLogLinesPerRun: number;
  readonly runLogLevel: LogLevel;
  readonly closeTimeoutMs: number;
  readonly keepCompletedJobs: number;
  readonly keepCompletedForMs: number;
  readonly warmThreads: number;
  readonly logger: ExecutorLogger;
  /** The caller's observer, every hook guarded (a no-op without one). */
  readonly observer: GuardedObserver;
}

/** Validates and resolves. Throws a ValidationError naming every bad option. */
export function resolveExecutorOptions(input: ExecutorOptions): ResolvedExecutorOptions {
  const parsed = ExecutorOptions.safeParse(input);
  if (!parsed.success) {
    const issues = toValidationIssues(parsed.error.issues);
    throw new ValidationError(issues, { message: `invalid executor options: ${describe(issues)}` });
  }
  const o = parsed.data;
  const host = o.host ?? hostname();
  const pid = process.pid;
  const { logger, observer, functions, prefix, ...rest } = o;
  const log = logger ?? createSilentLogger();
  return {
    ...rest,
    keyspace: createKeyspace(prefix),
    functionsUrl: toModuleUrl(functions),
    instanceId: o.instanceId ?? defaultInstanceId(host, pid),
    host,
    pid,
    version: o.version ?? packageVersion(),
    logger: log,
    observer: guardObserver(observer, log),
  };
}

function describe(issues: readonly { path: string; message: string }[]): string {
  return issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('; ');
}

/** A path (absolute, or relative to the working directory) or URL → a `file:` URL string. */
export function toModuleUrl(value: string | URL): string {
  if (value instanceof URL) return value.href;
  if (/^file:/i.test(value)) return new URL(value).href;
  return pathToFileURL(isAbsolute(value) ? value : resolve(value)).href;
}

/** `<hostname>-<pid>-<6 hex>`, reduced to what `InstanceId` allows. */
export function defaultInstanceId(host: string, pid: number): string {
  const clean = host
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 100);
  return `${clean === '' ? 'executor' : clean}-${pid}-${randomBytes(3).toString('hex')}`;
}

function packageVersion(): string {
  const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  const parsed = z.object({ version: z.string().min(1).max(64) }).safeParse(JSON.parse(text));
  return parsed.success ? parsed.data.version : '0.0.0';
}
