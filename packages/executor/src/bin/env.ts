/**
 * The runnable's settings, parsed once at boot from flags and the environment (a flag wins over its
 * variable). The token comes only from `KISJOBS_TOKEN` or a token file (`--token-file`,
 * `KISJOBS_TOKEN_FILE`), never from a flag, so it never shows in `ps`. Every problem names the setting.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  DEFAULT_KEY_PREFIX,
  GroupName,
  InstanceId,
  KeyPrefix,
  type ValidationIssue,
} from '@kisjobs/protocol';

/** Process exit codes (sysexits.h where one fits). */
export const EXIT_CODES = {
  ok: 0,
  failure: 1,
  /** EX_USAGE: a bad flag or setting. */
  usage: 64,
  /** EX_CONFIG: the registration token was refused. */
  tokenInvalid: 78,
} as const;

export const USAGE = `Usage: kisjobs-executor --group <group> --functions <module> [options]

Runs KisFlow functions for one executor group. Settings come from flags or the environment:
  --group <name>            KISJOBS_GROUP          executor group (required)
  --functions <path>        KISJOBS_FUNCTIONS      functions module, .js or .ts (required)
  --redis <url>             KISJOBS_REDIS_URL      default redis://127.0.0.1:6379
  --concurrency <n>         KISJOBS_CONCURRENCY    runs at once, default 10
  --warm-threads <n>        KISJOBS_WARM_THREADS   isolation threads started before the first run
                                                   (at most the concurrency), default 1
  --prefix <prefix>         KISJOBS_PREFIX         keyspace prefix, default ${DEFAULT_KEY_PREFIX}
  --instance-id <id>        KISJOBS_INSTANCE_ID    default <hostname>-<pid>-<random>
  --drain-timeout-ms <ms>   KISJOBS_DRAIN_TIMEOUT_MS  default 30000
  --main-stall-limit-ms <ms>  KISJOBS_MAIN_STALL_LIMIT_MS  default 30000; heartbeats are withheld
                                                   once the main event loop has not answered for this long
  --log-level <level>       KISJOBS_LOG_LEVEL      debug | info | warn | error, default info
  --token-file <path>       KISJOBS_TOKEN_FILE     file holding the registration token
                            KISJOBS_TOKEN          the registration token (never a flag)
  --metrics-port <n>        KISJOBS_METRICS_PORT   serve GET /metrics and /healthz on this port
                                                   (0: any free port); default off
  --metrics-host <host>     KISJOBS_METRICS_HOST   where that endpoint listens, default 127.0.0.1
Exit codes: 0 clean shutdown, 1 failure, 64 bad settings, 78 registration token refused.`;

export interface ExecutorSettings {
  readonly redisUrl: string;
  readonly group: string;
  readonly functions: string;
  readonly concurrency: number;
  readonly warmThreads?: number;
  readonly prefix: string;
  readonly instanceId?: string;
  readonly drainTimeoutMs?: number;
  readonly mainStallLimitMs?: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly token: string;
  /** Where the token came from, for messages: `KISJOBS_TOKEN` or `--token-file /path`. */
  readonly tokenSource: string;
  /** The /metrics and /healthz endpoint; absent: off. */
  readonly metrics?: { readonly host: string; readonly port: number };
}

export type SettingsResult =
  | { readonly kind: 'ok'; readonly settings: ExecutorSettings }
  | { readonly kind: 'help' }
  | { readonly kind: 'invalid'; readonly issues: readonly ValidationIssue[] };

export interface SettingsIo {
  readonly cwd: string;
  readonly readFile?: (path: string) => string;
  readonly exists?: (path: string) => boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

const FLAGS = {
  group: { type: 'string' },
  functions: { type: 'string' },
  redis: { type: 'string' },
  concurrency: { type: 'string' },
  'warm-threads': { type: 'string' },
  prefix: { type: 'string' },
  'instance-id': { type: 'string' },
  'drain-timeout-ms': { type: 'string' },
  'main-stall-limit-ms': { type: 'string' },
  'log-level': { type: 'string' },
  'token-file': { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const Int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: `Expected a whole number from ${min} to ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { message: `Expected at least ${min}` })
        .max(max, { message: `Expected at most ${max}` }),
    );

/** Each setting: its flag, its variable, its schema over the raw text, and its default. */
const SETTINGS = {
  group: { flag: 'group', env: 'KISJOBS_GROUP', schema: GroupName },
  functions: { flag: 'functions', env: 'KISJOBS_FUNCTIONS', schema: z.string().min(1) },
  redisUrl: {
    flag: 'redis',
    env: 'KISJOBS_REDIS_URL',
    schema: z.string().regex(/^rediss?:\/\/\S+$/, { message: 'Expected a redis:// or rediss:// URL' }),
    fallback: 'redis://127.0.0.1:6379',
  },
  concurrency: { flag: 'concurrency', env: 'KISJOBS_CONCURRENCY', schema: Int(1, 1_000), fallback: '10' },
  warmThreads: { flag: 'warm-threads', env: 'KISJOBS_WARM_THREADS', schema: Int(0, 1_000) },
  prefix: { flag: 'prefix', env: 'KISJOBS_PREFIX', schema: KeyPrefix, fallback: DEFAULT_KEY_PREFIX },
  instanceId: { flag: 'instance-id', env: 'KISJOBS_INSTANCE_ID', schema: InstanceId },
  drainTimeoutMs: { flag: 'drain-timeout-ms', env: 'KISJOBS_DRAIN_TIMEOUT_MS', schema: Int(0, 86_400_000) },
  mainStallLimitMs: {
    flag: 'main-stall-limit-ms',
    env: 'KISJOBS_MAIN_STALL_LIMIT_MS',
    schema: Int(1_000, 86_400_000),
  },
  logLevel: {
    flag: 'log-level',
    env: 'KISJOBS_LOG_LEVEL',
    schema: z.enum(['debug', 'info', 'warn', 'error']),
    fallback: 'info',
  },
  metricsPort: { flag: 'metrics-port', env: 'KISJOBS_METRICS_PORT', schema: Int(0, 65_535) },
  metricsHost: {
    flag: 'metrics-host',
    env: 'KISJOBS_METRICS_HOST',
    schema: z
      .string()
      .max(255)
      .regex(/^[A-Za-z0-9._:-]+$/, { message: 'Expected a host name or an IP address' }),
    fallback: '127.0.0.1',
  },
} as const;

type Key = keyof typeof SETTINGS;

export function parseExecutorSettings(argv: readonly string[], env: Env, io: SettingsIo): SettingsResult {
  if (argv.some((arg) => arg === '--token' || arg.startsWith('--token='))) {
    const message = 'the token is never a flag (it would show in ps): set KISJOBS_TOKEN or use --token-file';
    return { kind: 'invalid', issues: [{ path: '--token', message }] };
  }
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    return {
      kind: 'invalid',
      issues: [{ path: 'arguments', message: error instanceof Error ? error.message : String(error) }],
    };
  }
  if (flags['help'] === true) return { kind: 'help' };

  const issues: ValidationIssue[] = [];
  const values: Partial<Record<Key, unknown>> = {};
  for (const key of Object.keys(SETTINGS) as Key[]) {
    const spec = SETTINGS[key];
    const fromFlag = flags[spec.flag];
    const raw = typeof fromFlag === 'string' ? fromFlag : env[spec.env];
    const where = typeof fromFlag === 'string' ? `--${spec.flag}` : spec.env;
    const text = raw === undefined || raw === '' ? ('fallback' in spec ? spec.fallback : undefined) : raw;
    if (text === undefined) continue;
    const parsed = spec.schema.safeParse(text);
    if (parsed.success) values[key] = parsed.data;
    else
      issues.push({
        path: where,
        message: `${parsed.error.issues[0]?.message ?? 'invalid'} (got ${JSON.stringify(text)})`,
      });
  }
  for (const key of ['group', 'functions'] as const) {
    if (
      values[key] === undefined &&
      !issues.some((i) => i.path.includes(SETTINGS[key].env) || i.path === `--${SETTINGS[key].flag}`)
    ) {
      issues.push({ path: `--${SETTINGS[key].flag} or ${SETTINGS[key].env}`, message: 'required' });
    }
  }
  const functions = typeof values.functions === 'string' ? absolute(values.functions, io.cwd) : undefined;
  const exists = io.exists ?? existsSync;
  if (functions !== undefined && !exists(functions)) {
    issues.push({ path: flagOrEnv(flags, 'functions'), message: `no such file: ${functions}` });
  }
  const token = readToken(flags, env, io, issues);
  if (issues.length > 0 || token === undefined || functions === undefined) return { kind: 'invalid', issues };
  return {
    kind: 'ok',
    settings: {
      redisUrl: values.redisUrl as string,
      group: values.group as string,
      functions,
      concurrency: values.concurrency as number,
      prefix: values.prefix as string,
      logLevel: values.logLevel as ExecutorSettings['logLevel'],
      ...(values.warmThreads === undefined ? {} : { warmThreads: values.warmThreads as number }),
      ...(values.instanceId === undefined ? {} : { instanceId: values.instanceId as string }),
      ...(values.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: values.drainTimeoutMs as number }),
      ...(values.mainStallLimitMs === undefined
        ? {}
        : { mainStallLimitMs: values.mainStallLimitMs as number }),
      ...(values.metricsPort === undefined
        ? {}
        : { metrics: { host: values.metricsHost as string, port: values.metricsPort as number } }),
      ...token,
    },
  };
}

function readToken(
  flags: Record<string, string | boolean | undefined>,
  env: Env,
  io: SettingsIo,
  issues: ValidationIssue[],
): { token: string; tokenSource: string } | undefined {
  const flagFile = flags['token-file'];
  const file = typeof flagFile === 'string' ? flagFile : env['KISJOBS_TOKEN_FILE'];
  let token: string | undefined;
  let source: string;
  if (file !== undefined && file !== '') {
    source = typeof flagFile === 'string' ? `--token-file ${file}` : `KISJOBS_TOKEN_FILE ${file}`;
    try {
      token = (io.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(absolute(file, io.cwd)).trim();
    } catch (error) {
      issues.push({
        path: source,
        message: `cannot read the token file: ${error instanceof Error ? error.message : String(error)}`,
      });
      return undefined;
    }
  } else {
    source = 'KISJOBS_TOKEN';
    token = env['KISJOBS_TOKEN'];
  }
  if (token === undefined || token === '') {
    issues.push({ path: 'KISJOBS_TOKEN or --token-file', message: 'required: the group registration token' });
    return undefined;
  }
  if (token.length < 16 || token.length > 512) {
    issues.push({ path: source, message: 'a registration token has 16 to 512 characters' });
    return undefined;
  }
  return { token, tokenSource: source };
}

function absolute(path: string, cwd: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}

function flagOrEnv(flags: Record<string, string | boolean | undefined>, key: Key): string {
  return typeof flags[SETTINGS[key].flag] === 'string' ? `--${SETTINGS[key].flag}` : SETTINGS[key].env;
}
