/**
 * Run errors: one stable code each, a small named class each, and a plain JSON shape (`FlowRunError`) for
 * results that cross worker threads and queues.
 */

export const FLOW_ERROR_CODES = [
  'FLOW_NOT_FOUND',
  'FLOW_DISABLED',
  'FUNCTION_NOT_REGISTERED',
  'SOURCE_MUST_MISSING',
  'INPUT_INVALID',
  'FUNCTION_FAILED',
  'FUNCTION_TIMEOUT',
  'UNKNOWN_JUMP_TARGET',
  'STEP_LIMIT_EXCEEDED',
  'CONNECTOR_NOT_FOUND',
  'CONNECTOR_TYPE_NOT_REGISTERED',
  'CONNECTOR_INIT_FAILED',
  'CANCELLED',
] as const;
export type FlowErrorCode = (typeof FLOW_ERROR_CODES)[number];

/** The serialisable error of a failed or cancelled run. */
export interface FlowRunError {
  readonly code: FlowErrorCode;
  readonly message: string;
  readonly funcName?: string;
  readonly step?: number;
  readonly rowIndex?: number;
  /** The missing `source.must` field, or the path of the first input-schema issue (`a.b.0`). */
  readonly field?: string;
}

export interface FlowErrorDetails {
  readonly funcName?: string;
  readonly step?: number;
  readonly rowIndex?: number;
  readonly field?: string;
  readonly cause?: unknown;
}

export abstract class FlowError extends Error {
  abstract readonly code: FlowErrorCode;
  readonly funcName: string | undefined;
  readonly step: number | undefined;
  readonly rowIndex: number | undefined;
  readonly field: string | undefined;

  constructor(message: string, details: FlowErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.funcName = details.funcName;
    this.step = details.step;
    this.rowIndex = details.rowIndex;
    this.field = details.field;
  }

  toJSON(): FlowRunError {
    const out: { -readonly [K in keyof FlowRunError]: FlowRunError[K] } = {
      code: this.code,
      message: this.message,
    };
    if (this.funcName !== undefined) out.funcName = this.funcName;
    if (this.step !== undefined) out.step = this.step;
    if (this.rowIndex !== undefined) out.rowIndex = this.rowIndex;
    if (this.field !== undefined) out.field = this.field;
    return out;
  }
}

export class FlowNotFoundError extends FlowError {
  readonly code = 'FLOW_NOT_FOUND' as const;
}
export class FlowDisabledError extends FlowError {
  readonly code = 'FLOW_DISABLED' as const;
}
export class FunctionNotRegisteredError extends FlowError {
  readonly code = 'FUNCTION_NOT_REGISTERED' as const;
}
export class SourceMustMissingError extends FlowError {
  readonly code = 'SOURCE_MUST_MISSING' as const;
}
export class InputInvalidError extends FlowError {
  readonly code = 'INPUT_INVALID' as const;
}
export class FunctionFailedError extends FlowError {
  readonly code = 'FUNCTION_FAILED' as const;
}
export class FunctionTimeoutError extends FlowError {
  readonly code = 'FUNCTION_TIMEOUT' as const;
}
export class UnknownJumpTargetError extends FlowError {
  readonly code = 'UNKNOWN_JUMP_TARGET' as const;
}
export class StepLimitExceededError extends FlowError {
  readonly code = 'STEP_LIMIT_EXCEEDED' as const;
}
export class ConnectorNotFoundError extends FlowError {
  readonly code = 'CONNECTOR_NOT_FOUND' as const;
}
export class ConnectorTypeNotRegisteredError extends FlowError {
  readonly code = 'CONNECTOR_TYPE_NOT_REGISTERED' as const;
}
export class ConnectorInitFailedError extends FlowError {
  readonly code = 'CONNECTOR_INIT_FAILED' as const;
}
export class CancelledError extends FlowError {
  readonly code = 'CANCELLED' as const;
}

/**
 * Throw this from a function handler to fail the run at once, without the retries of `option.retry_times`
 * (for errors that another attempt cannot fix, such as bad data).
 */
export class NonRetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NonRetryableError';
  }
}

/** Errors of registry set-up (not of runs): a config that does not hold together, a name registered twice. */
export type RegistryErrorCode = 'CONFIG_INVALID' | 'DUPLICATE_REGISTRATION';

export class FlowConfigError extends Error {
  readonly code: RegistryErrorCode = 'CONFIG_INVALID';
  constructor(readonly issues: readonly string[]) {
    super(`invalid flow config: ${issues.join('; ')}`);
    this.name = 'FlowConfigError';
  }
}

export class DuplicateRegistrationError extends Error {
  readonly code: RegistryErrorCode = 'DUPLICATE_REGISTRATION';
  constructor(message: string) {
    super(message);
    this.name = 'DuplicateRegistrationError';
  }
}

export type FailedRunStatus = 'failed' | 'cancelled';

export function statusForCode(code: FlowErrorCode): FailedRunStatus {
  switch (code) {
    case 'CANCELLED':
      return 'cancelled';
    case 'FLOW_NOT_FOUND':
    case 'FLOW_DISABLED':
    case 'FUNCTION_NOT_REGISTERED':
    case 'SOURCE_MUST_MISSING':
    case 'INPUT_INVALID':
    case 'FUNCTION_FAILED':
    case 'FUNCTION_TIMEOUT':
    case 'UNKNOWN_JUMP_TARGET':
    case 'STEP_LIMIT_EXCEEDED':
    case 'CONNECTOR_NOT_FOUND':
    case 'CONNECTOR_TYPE_NOT_REGISTERED':
    case 'CONNECTOR_INIT_FAILED':
      return 'failed';
    default:
      return assertNever(code);
  }
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${String(value)}`);
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}
