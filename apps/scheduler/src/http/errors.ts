/**
 * Everything that can go wrong in a request → the one error shape `{"error":{"code","message","details"}}`
 * with its status and headers. Typed errors keep their code; body-parser and router failures get theirs
 * (malformed JSON 400, too large 413, not JSON 415, a bad %-escape in the path 400); anything unexpected is
 * 500 INTERNAL with a generic message; the caller logs the original with the request id, never the client.
 */
import { isDbError } from '@kisjobs/db';
import {
  KisJobsError,
  RateLimitedError,
  toErrorResponse,
  ValidationError,
  type ErrorBody,
} from '@kisjobs/protocol';

export interface ErrorResult {
  readonly status: number;
  readonly body: ErrorBody;
  readonly headers: Readonly<Record<string, string>>;
  /** True when the error was not one we expected: log it. */
  readonly unexpected: boolean;
}

/** The `type` field body-parser sets on its errors. */
function parserErrorType(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('type' in error)) return undefined;
  const type = (error as { type: unknown }).type;
  return typeof type === 'string' ? type : undefined;
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status =
    (error as { status?: unknown; statusCode?: unknown }).status ??
    (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : undefined;
}

const malformed = (message: string) => () => new ValidationError([{ path: '', message }], { message });

/** body-parser's error `type`s → our errors. */
const PARSER_ERRORS: ReadonlyMap<string, (limitBytes: number) => KisJobsError> = new Map([
  ['entity.parse.failed', malformed('Malformed JSON body')],
  [
    'entity.too.large',
    (limitBytes: number) =>
      new KisJobsError('PAYLOAD_TOO_LARGE', `The body is larger than ${limitBytes} bytes`, {
        details: { limitBytes },
      }),
  ],
  [
    'encoding.unsupported',
    () =>
      new KisJobsError(
        'UNSUPPORTED_MEDIA_TYPE',
        'Content-Encoding is not supported: send the body uncompressed',
      ),
  ],
  ['charset.unsupported', () => new KisJobsError('UNSUPPORTED_MEDIA_TYPE', 'Send JSON bodies in UTF-8')],
  ['request.aborted', malformed('Incomplete request body')],
  ['request.size.invalid', malformed('Incomplete request body')],
]);

/** Maps framework and database errors to our typed ones; leaves unknown errors alone. */
export function normalizeError(error: unknown, limits: { readonly bodyLimitBytes: number }): unknown {
  if (error instanceof KisJobsError) return error;
  if (isDbError(error, 'DB_INVALID_CURSOR')) {
    return new ValidationError([{ path: 'query.cursor', message: 'Not a cursor this API returned' }]);
  }
  if (isDbError(error, 'DB_VERSION_CONFLICT')) {
    return new KisJobsError('VERSION_CONFLICT', 'Someone else changed it first: reload and try again');
  }
  const type = parserErrorType(error);
  const mapped = type === undefined ? undefined : PARSER_ERRORS.get(type)?.(limits.bodyLimitBytes);
  if (mapped !== undefined) return mapped;
  const status = statusOf(error);
  if (status !== undefined && status >= 400 && status < 500) {
    // Router failures such as a path with a broken %-escape (URIError, status 400).
    return new ValidationError([{ path: '', message: 'Malformed request' }], {
      message: 'Malformed request',
    });
  }
  return error;
}

export function errorResult(error: unknown, limits: { readonly bodyLimitBytes: number }): ErrorResult {
  const normalized = normalizeError(error, limits);
  const { status, body } = toErrorResponse(normalized);
  const headers: Record<string, string> = {};
  if (normalized instanceof RateLimitedError) {
    headers['Retry-After'] = String(Math.max(1, Math.ceil(normalized.retryAfterMs / 1000)));
  }
  if (status === 401) {
    headers['WWW-Authenticate'] =
      body.error.code === 'TOKEN_INVALID' ? 'Bearer error="invalid_token"' : 'Bearer';
  }
  return { status, body, headers, unexpected: !(normalized instanceof KisJobsError) };
}
