/**
 * Errors raised by `@kisjobs/db`. Each carries a stable `code` that callers switch over (the scheduler maps
 * them to HTTP statuses and retry decisions); the message is for humans and may change.
 */
export type DbErrorCode =
  /** The options passed to `createDb` / `migrate` name no usable database. */
  | 'DB_INVALID_TARGET'
  /** Another migrator held the migration lock for longer than `lockTimeoutMs`. */
  | 'DB_MIGRATION_LOCK_TIMEOUT'
  /** The migrations folder is missing or malformed. */
  | 'DB_MIGRATIONS_FOLDER_INVALID'
  /** The schema engine refused or failed to apply a migration. */
  | 'DB_MIGRATION_FAILED'
  /** The schema engine could not compute a diff (for example, schema.prisma does not parse). */
  | 'DB_SCHEMA_DIFF_FAILED'
  /** A paging cursor was not produced by this package or was tampered with. */
  | 'DB_INVALID_CURSOR'
  /** An optimistic-concurrency update found another version than the one expected. */
  | 'DB_VERSION_CONFLICT';

/** Codes for which retrying the same call later can succeed. */
const retryable: ReadonlySet<DbErrorCode> = new Set(['DB_MIGRATION_LOCK_TIMEOUT']);

export class DbError extends Error {
  override readonly name = 'DbError';
  readonly code: DbErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  /** True when retrying the same call cannot help. */
  readonly nonRetryable: boolean;

  constructor(
    code: DbErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
    this.nonRetryable = !retryable.has(code);
  }
}

export function isDbError(error: unknown, code?: DbErrorCode): error is DbError {
  return error instanceof DbError && (code === undefined || error.code === code);
}

/** The message of anything thrown, for wrapping. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
