/**
 * The HTTP API client the commands use: JSON in and out, the bearer token, and the API's one error shape
 * (`{error: {code, message, details}}`) turned into a CliError with the right exit code and every field issue.
 */
import { CliError, type ErrorIssue } from '../errors.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { ServerTarget } from './credentials.js';

/** A paged listing as the API returns it. */
export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ApiResponse<T> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export interface ApiClient {
  readonly url: string;
  readonly signedIn: boolean;
  request<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  get<T = unknown>(path: string, options?: RequestOptions): Promise<T>;
  post<T = unknown>(path: string, body?: unknown, options?: RequestOptions): Promise<T>;
  /** A raw response (text bodies, event streams); errors are still turned into CliErrors. */
  raw(method: string, path: string, options?: RequestOptions): Promise<Response>;
}

function exitCodeFor(status: number): ExitCode {
  if (status === 401) return EXIT.unauthenticated;
  if (status === 403) return EXIT.forbidden;
  if (status === 404) return EXIT.notFound;
  if (status === 400 || status === 409 || status === 413 || status === 422) return EXIT.rejected;
  if (status === 429 || status >= 500) return EXIT.unavailable;
  return EXIT.failure;
}

function issuesOf(details: unknown): ErrorIssue[] {
  const list = Array.isArray(details)
    ? details
    : typeof details === 'object' &&
        details !== null &&
        Array.isArray((details as { issues?: unknown }).issues)
      ? ((details as { issues: unknown[] }).issues ?? [])
      : [];
  return list.flatMap((item) => {
    if (typeof item !== 'object' || item === null) return [];
    const { path, message } = item as { path?: unknown; message?: unknown };
    if (typeof message !== 'string') return [];
    return [{ path: Array.isArray(path) ? path.join('.') : typeof path === 'string' ? path : '', message }];
  });
}

async function errorFrom(response: Response, target: string): Promise<CliError> {
  const text = await response.text();
  let code = `HTTP_${response.status}`;
  let message = `${target} answered ${response.status}`;
  let issues: ErrorIssue[] = [];
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
    issues = issuesOf(body.error?.details);
  } catch {
    // Not our error shape (a proxy's page): keep the status line.
  }
  const hint =
    response.status === 401
      ? 'Sign in with `kisjobs login` (or set KISJOBS_API_TOKEN).'
      : response.status === 403
        ? 'Your role or scene grants do not allow this; ask an admin.'
        : undefined;
  return new CliError(code, message, {
    exitCode: exitCodeFor(response.status),
    issues,
    ...(hint ? { hint } : {}),
  });
}

export function createApiClient(target: ServerTarget, fetchImpl: typeof fetch = fetch): ApiClient {
  const base = target.url;
  const buildUrl = (path: string, query: RequestOptions['query']): string => {
    const url = new URL(base + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  };
  const raw = async (method: string, path: string, options: RequestOptions = {}): Promise<Response> => {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (target.token !== undefined) headers['authorization'] = `Bearer ${target.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetchImpl(buildUrl(path, options.query), {
        method,
        headers,
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      throw new CliError('SERVER_UNREACHABLE', `cannot reach the KisJobs server at ${base}${cause}`, {
        exitCode: EXIT.unavailable,
        hint: 'Is it running? Pass --url, set KISJOBS_URL, or start one with `npm run dev`.',
      });
    }
    if (!response.ok) throw await errorFrom(response, base);
    return response;
  };
  const request = async <T>(
    method: string,
    path: string,
    options?: RequestOptions,
  ): Promise<ApiResponse<T>> => {
    const response = await raw(method, path, options);
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: (text === '' ? undefined : JSON.parse(text)) as T,
    };
  };
  return {
    url: base,
    signedIn: target.token !== undefined,
    request,
    raw,
    get: async (path, options) => (await request(/* */ 'GET', path, options)).body as never,
    post: async (path, body, options) =>
      (await request('POST', path, { ...options, body: body ?? {} })).body as never,
  };
}
