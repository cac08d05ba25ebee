/**
 * Error classes with a stable `code`, the HTTP `status` from the one table, `details` safe to show a
 * client, and `retryable` (false = the explicit non-retryable marker: trying again cannot help).
 */
import { ERROR_STATUS, isRetryableStatus, type ErrorCode, type ErrorStatus } from './codes.js';
import type { ValidationIssue } from './issues.js';

export interface KisJobsErrorOptions {
  /** JSON-safe data for the client (never secrets, never a stack). */
  readonly details?: unknown;
  /** Override the status-based default (429, 500, 503 retryable; the rest not). */
  readonly retryable?: boolean;
  readonly cause?: unknown;
}

export class KisJobsError extends Error {
  readonly code: ErrorCode;
  readonly status: ErrorStatus;
  readonly details: unknown;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: KisJobsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KisJobsError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = options.details;
    this.retryable = options.retryable ?? isRetryableStatus(this.status);
  }
}

export function isKisJobsError(value: unknown): value is KisJobsError {
  return value instanceof KisJobsError;
}

/** Codes that mean "this input is invalid", each naming the offending fields in `issues`. */
export type ValidationCode = Extract<
  ErrorCode,
  'VALIDATION_FAILED' | 'PAYLOAD_INVALID' | 'CRON_INVALID' | 'TIMEZONE_INVALID' | 'CONFIG_INVALID'
>;

export class ValidationError extends KisJobsError {
  readonly issues: readonly ValidationIssue[];

  constructor(
    issues: readonly ValidationIssue[],
    options: { code?: ValidationCode; message?: string; cause?: unknown } = {},
  ) {
    super(options.code ?? 'VALIDATION_FAILED', options.message ?? summarizeIssues(issues), {
      details: { issues },
      retryable: false,
      cause: options.cause,
    });
    this.name = 'ValidationError';
    this.issues = issues;
  }
}

/** A Redis payload that failed to decode; `kind` names the catalog entry. Never retryable. */
export class ProtocolError extends ValidationError {
  readonly kind: string;

  constructor(kind: string, issues: readonly ValidationIssue[], cause?: unknown) {
    super(issues, {
      code: 'PAYLOAD_INVALID',
      message: `Invalid ${kind} payload: ${summarizeIssues(issues)}`,
      cause,
    });
    this.name = 'ProtocolError';
    this.kind = kind;
  }
}

/** Resource kinds with their own not-found code; anything else uses NOT_FOUND. */
export const NOT_FOUND_CODES = {
  run: 'RUN_NOT_FOUND',
  job: 'JOB_NOT_FOUND',
  scene: 'SCENE_NOT_FOUND',
  user: 'USER_NOT_FOUND',
  config: 'CONFIG_NOT_FOUND',
  flow: 'FLOW_NOT_FOUND',
  executor: 'EXECUTOR_NOT_FOUND',
  group: 'GROUP_NOT_FOUND',
  token: 'TOKEN_NOT_FOUND',
} as const satisfies Record<string, ErrorCode>;
export type ResourceKind = keyof typeof NOT_FOUND_CODES;

export class NotFoundError extends KisJobsError {
  readonly resource: ResourceKind;
  readonly id: string;

  constructor(resource: ResourceKind, id: string) {
    super(NOT_FOUND_CODES[resource], `${resource} ${id} not found`, { details: { resource, id } });
    this.name = 'NotFoundError';
    this.resource = resource;
    this.id = id;
  }
}

export type ConflictCode = Extract<
  ErrorCode,
  'CONFLICT' | 'ALREADY_EXISTS' | 'VERSION_CONFLICT' | 'RUN_ALREADY_FINISHED' | 'JOB_DISABLED'
>;

export class ConflictError extends KisJobsError {
  constructor(message: string, options: { code?: ConflictCode; details?: unknown } = {}) {
    super(options.code ?? 'CONFLICT', message, { details: options.details });
    this.name = 'ConflictError';
  }
}

export class UnauthenticatedError extends KisJobsError {
  constructor(
    message = 'Authentication required',
    code: Extract<
      ErrorCode,
      'UNAUTHENTICATED' | 'INVALID_CREDENTIALS' | 'TOKEN_INVALID' | 'EXECUTOR_TOKEN_INVALID'
    > = 'UNAUTHENTICATED',
  ) {
    super(code, message);
    this.name = 'UnauthenticatedError';
  }
}

export class ForbiddenError extends KisJobsError {
  constructor(
    message = 'Not allowed',
    code: Extract<ErrorCode, 'FORBIDDEN' | 'SCENE_ACCESS_DENIED'> = 'FORBIDDEN',
    details?: unknown,
  ) {
    super(code, message, { details });
    this.name = 'ForbiddenError';
  }
}

export class RateLimitedError extends KisJobsError {
  readonly retryAfterMs: number;

  constructor(retryAfterMs: number, message = 'Too many requests') {
    super('RATE_LIMITED', message, { details: { retryAfterMs } });
    this.name = 'RateLimitedError';
    this.retryAfterMs = retryAfterMs;
  }
}

export class UnavailableError extends KisJobsError {
  constructor(
    message: string,
    options: { code?: Extract<ErrorCode, 'UNAVAILABLE' | 'NO_EXECUTOR_AVAILABLE'>; cause?: unknown } = {},
  ) {
    super(options.code ?? 'UNAVAILABLE', message, { cause: options.cause });
    this.name = 'UnavailableError';
  }
}

function summarizeIssues(issues: readonly ValidationIssue[]): string {
  const first = issues[0];
  if (first === undefined) return 'Invalid input';
  const head = first.path === '' ? first.message : `${first.path}: ${first.message}`;
  return issues.length > 1 ? `${head} (and ${issues.length - 1} more)` : head;
}
