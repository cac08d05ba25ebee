/**
 * Stable error codes and their HTTP status: one table, the only place a status is chosen (DESIGN §6).
 * Codes are part of the API contract: add new ones freely, never rename or repurpose one.
 */
import { z } from 'zod';
import { assertNever } from '../assert-never.js';

export const ERROR_STATUS = {
  // 400: the request or payload is malformed or a field is invalid.
  VALIDATION_FAILED: 400,
  PAYLOAD_INVALID: 400,
  CRON_INVALID: 400,
  TIMEZONE_INVALID: 400,
  // 401: who you are is unknown or not proven.
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  TOKEN_INVALID: 401,
  EXECUTOR_TOKEN_INVALID: 401,
  // 403: known, but not allowed (role, or a scene not granted).
  FORBIDDEN: 403,
  SCENE_ACCESS_DENIED: 403,
  // 404
  NOT_FOUND: 404,
  RUN_NOT_FOUND: 404,
  JOB_NOT_FOUND: 404,
  SCENE_NOT_FOUND: 404,
  USER_NOT_FOUND: 404,
  CONFIG_NOT_FOUND: 404,
  FLOW_NOT_FOUND: 404,
  EXECUTOR_NOT_FOUND: 404,
  GROUP_NOT_FOUND: 404,
  TOKEN_NOT_FOUND: 404,
  // 405: the path exists, but not with this method (the response's `Allow` header lists the ones it has).
  METHOD_NOT_ALLOWED: 405,
  // 409: the request is valid but clashes with the current state.
  CONFLICT: 409,
  ALREADY_EXISTS: 409,
  VERSION_CONFLICT: 409,
  RUN_ALREADY_FINISHED: 409,
  JOB_DISABLED: 409,
  // 413: the request body is larger than the API accepts.
  PAYLOAD_TOO_LARGE: 413,
  // 415: the request body is not JSON (or not in a charset the API reads).
  UNSUPPORTED_MEDIA_TYPE: 415,
  // 422: well-formed, but its content cannot be used (a KisFlow config that does not resolve...).
  UNPROCESSABLE: 422,
  CONFIG_INVALID: 422,
  /** No online executor of the job's group implements every function of its flow. */
  FLOW_NOT_IMPLEMENTED: 422,
  // 429
  RATE_LIMITED: 429,
  // 500
  INTERNAL: 500,
  // 503: a dependency (Postgres, Redis, an executor) is not there right now.
  UNAVAILABLE: 503,
  NO_EXECUTOR_AVAILABLE: 503,
} as const satisfies Record<string, ErrorStatus>;

/** Every HTTP status the API answers an error with. */
export const ERROR_STATUSES = [400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 503] as const;
export type ErrorStatus = (typeof ERROR_STATUSES)[number];

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];
export const ErrorCode = z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]);

export function httpStatusOf(code: ErrorCode): ErrorStatus {
  return ERROR_STATUS[code];
}

/**
 * Whether a failure with this status may succeed if simply tried again later (the default of
 * `KisJobsError.retryable`; a thrower can override it either way).
 */
export function isRetryableStatus(status: ErrorStatus): boolean {
  switch (status) {
    case 429:
    case 500:
    case 503:
      return true;
    case 400:
    case 401:
    case 403:
    case 404:
    case 405:
    case 409:
    case 413:
    case 415:
    case 422:
      return false;
    default:
      return assertNever(status);
  }
}
