/**
 * The executor's typed errors. Each has a stable `code` from the protocol's table where one fits.
 */
import { KisJobsError, UnauthenticatedError, type ValidationIssue } from '@kisjobs/protocol';

/** The registration token is not valid for the group: the server refused the executor. Not retryable. */
export class ExecutorTokenInvalidError extends UnauthenticatedError {
  readonly group: string;
  readonly tokenSource: string;

  constructor(group: string, tokenSource: string) {
    super(
      `registration refused: the token is not valid for group "${group}" (${tokenSource})`,
      'EXECUTOR_TOKEN_INVALID',
    );
    this.name = 'ExecutorTokenInvalidError';
    this.group = group;
    this.tokenSource = tokenSource;
  }
}

/** The functions module could not be loaded, or does not export what the executor needs. */
export class FunctionsModuleError extends KisJobsError {
  readonly module: string;
  readonly issues: readonly ValidationIssue[];

  constructor(module: string, issues: readonly ValidationIssue[], cause?: unknown) {
    const first = issues[0];
    const what =
      first === undefined ? 'invalid' : first.path === '' ? first.message : `${first.path}: ${first.message}`;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super('CONFIG_INVALID', `functions module ${module}: ${what}${more}`, {
      details: { module, issues },
      retryable: false,
      cause,
    });
    this.name = 'FunctionsModuleError';
    this.module = module;
    this.issues = issues;
  }
}

/** `start()` on an executor that is closing or closed, or a second `start()`. */
export class ExecutorStateError extends KisJobsError {
  constructor(message: string) {
    super('CONFLICT', message, { retryable: false });
    this.name = 'ExecutorStateError';
  }
}

/** The metrics endpoint could not listen (the port is taken, the address is not this host's...). */
export class MetricsServerError extends KisJobsError {
  readonly host: string;
  readonly port: number;

  constructor(host: string, port: number, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('UNAVAILABLE', `the metrics endpoint cannot listen on ${host}:${port}: ${reason}`, {
      details: { host, port },
      retryable: false,
      cause,
    });
    this.name = 'MetricsServerError';
    this.host = host;
    this.port = port;
  }
}
