/**
 * The scheduler's environment, parsed once at boot (packages never read `process.env`). Every problem names
 * its variable.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { DEFAULT_KEY_PREFIX, KeyPrefix, toValidationIssues, type ValidationIssue } from '@kisjobs/protocol';
import { MailFrom, SmtpUrl, type SmtpSettings } from './alerts/smtp-settings.js';
import { LOGGER_LEVELS } from './logger.js';

const Ms = (fallback: number) => z.coerce.number().int().min(100).max(3_600_000).default(fallback);

export const SchedulerEnv = z
  .object({
    DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\/\S+$/, { message: 'Expected a postgres:// URL' }),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\/\S+$/, { message: 'Expected a redis:// or rediss:// URL' })
      .default('redis://127.0.0.1:6379'),
    KISJOBS_PREFIX: KeyPrefix.default(DEFAULT_KEY_PREFIX),
    /** Unique per replica: the consumer name in the registry and run-event streams. */
    KISJOBS_CONSUMER_NAME: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,128}$/, { message: 'Use A-Z, a-z, 0-9, ".", "_" and "-" (1-128)' })
      .default(
        `${hostname()
          .replace(/[^A-Za-z0-9._-]/g, '-')
          .slice(0, 100)}-${process.pid}`,
      ),
    KISJOBS_LOG_LEVEL: z.enum(LOGGER_LEVELS).default('info'),
    /** Apply pending migrations before starting (`kisjobs migrate` is the explicit way). */
    KISJOBS_MIGRATE: z
      .enum(['0', '1', 'true', 'false'])
      .default('0')
      .transform((v) => v === '1' || v === 'true'),
    KISJOBS_DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
    KISJOBS_SWEEP_INTERVAL_MS: Ms(5_000),
    /** The HTTP API, console host and /metrics. Loopback by default: expose it deliberately. */
    KISJOBS_HTTP_HOST: z.string().min(1).max(255).default('127.0.0.1'),
    KISJOBS_HTTP_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
    /** Finished runs (with their log lines) older than this many days are deleted; 0 keeps them for ever. */
    KISJOBS_RETENTION_RUNS_DAYS: z.coerce.number().int().min(0).max(36_500).default(30),
    /** Audit events older than this many days are deleted; 0 keeps them for ever. */
    KISJOBS_RETENTION_AUDIT_DAYS: z.coerce.number().int().min(0).max(36_500).default(180),
    /** Executor events, and executors offline or removed, older than this many days are deleted; 0 keeps them. */
    KISJOBS_RETENTION_EXECUTORS_DAYS: z.coerce.number().int().min(0).max(36_500).default(7),
    /** Browser origins allowed to call the API (comma-separated `https://console.example.com`); unset: CORS off. */
    KISJOBS_CORS_ORIGINS: z
      .string()
      .max(4_000)
      .transform((v) =>
        v
          .split(',')
          .map((o) => o.trim())
          .filter((o) => o !== ''),
      )
      .pipe(
        z.array(
          z.string().regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/, {
            message: 'Each origin is scheme://host[:port], no path, e.g. https://console.example.com',
          }),
        ),
      )
      .default([]),
    /**
     * Behind a reverse proxy: Express `trust proxy` (`true`, a hop count, or addresses/subnets such as
     * `loopback, 10.0.0.0/8`), so client addresses (audit, per-address login limits) come from X-Forwarded-For.
     */
    KISJOBS_TRUST_PROXY: z
      .string()
      .max(1_000)
      .regex(/^(true|false|\d{1,2}|[A-Za-z0-9.:/, -]+)$/, {
        message: 'Expected true, false, a hop count, or addresses',
      })
      .transform((v): boolean | number | string =>
        v === 'true' ? true : v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v,
      )
      .default(false),
    /** Send Strict-Transport-Security: set it when browsers reach the API over HTTPS only. */
    KISJOBS_HSTS: z
      .enum(['0', '1', 'true', 'false'])
      .default('0')
      .transform((v) => v === '1' || v === 'true'),
    /**
     * How long this replica reuses a bearer lookup (ms; 0: never). Revocations made through this replica apply
     * at once; those made through another replica apply here within this bound.
     */
    KISJOBS_AUTH_CACHE_TTL_MS: z.coerce.number().int().min(0).max(10_000).default(2_000),
    /** E-mail alerts: `smtp://user:pass@host:port` (STARTTLS when offered) or `smtps://…`; unset: off. */
    KISJOBS_SMTP_URL: SmtpUrl.optional(),
    /** The From of alert e-mails: `alerts@example.com` or `KisJobs <alerts@example.com>`. */
    KISJOBS_SMTP_FROM: MailFrom.optional(),
  })
  .superRefine((env, ctx) => {
    if (env.KISJOBS_SMTP_URL !== undefined && env.KISJOBS_SMTP_FROM === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['KISJOBS_SMTP_FROM'],
        message: 'Required with KISJOBS_SMTP_URL',
      });
    if (env.KISJOBS_SMTP_FROM !== undefined && env.KISJOBS_SMTP_URL === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['KISJOBS_SMTP_URL'],
        message: 'Required with KISJOBS_SMTP_FROM',
      });
  });
export type SchedulerEnv = z.infer<typeof SchedulerEnv>;

/** The SMTP settings of e-mail alerts, when both variables are set. */
export function smtpSettingsOf(env: SchedulerEnv): SmtpSettings | undefined {
  return env.KISJOBS_SMTP_URL === undefined || env.KISJOBS_SMTP_FROM === undefined
    ? undefined
    : { url: env.KISJOBS_SMTP_URL, from: env.KISJOBS_SMTP_FROM };
}

export function parseSchedulerEnv(
  env: Readonly<Record<string, string | undefined>>,
): { ok: true; env: SchedulerEnv } | { ok: false; issues: ValidationIssue[] } {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = SchedulerEnv.safeParse(present);
  return result.success
    ? { ok: true, env: result.data }
    : { ok: false, issues: toValidationIssues(result.error.issues) };
}
