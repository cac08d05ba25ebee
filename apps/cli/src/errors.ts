/** Typed CLI errors: a stable `code`, the exit code, and the lines a user needs to fix it. */
import { EXIT, type ExitCode } from './exit-codes.js';

export interface ErrorIssue {
  readonly path: string;
  readonly message: string;
}

export class CliError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly issues: readonly ErrorIssue[];
  readonly hint: string | undefined;

  constructor(
    code: string,
    message: string,
    options: { exitCode?: ExitCode; issues?: readonly ErrorIssue[]; hint?: string } = {},
  ) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = options.exitCode ?? EXIT.failure;
    this.issues = options.issues ?? [];
    this.hint = options.hint;
  }
}

/** The same error with a hint for the person at the terminal. */
export function withHint(error: CliError, hint: string): CliError {
  return new CliError(error.code, error.message, { exitCode: error.exitCode, issues: error.issues, hint });
}

export function usageError(message: string, issues: readonly ErrorIssue[] = []): CliError {
  return new CliError('USAGE', message, { exitCode: EXIT.usage, issues });
}

/** Lines for stderr: `error: CODE: message`, one line per issue, then the hint. */
export function formatError(error: CliError): string {
  const lines = [`error: ${error.message} (${error.code})`];
  const issueLines = error.issues.map((i) => `${i.path === '' ? '(root)' : i.path}: ${i.message}`);
  // A message that already is its one issue is not repeated.
  if (!(issueLines.length === 1 && error.message === issueLines[0])) {
    for (const line of issueLines) lines.push(`  ${line}`);
  }
  if (error.hint !== undefined) lines.push(error.hint);
  return `${lines.join('\n')}\n`;
}
