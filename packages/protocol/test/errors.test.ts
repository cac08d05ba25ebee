import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import {
  assertNever,
  ConflictError,
  ERROR_CODES,
  ERROR_STATUS,
  ERROR_STATUSES,
  ErrorBody,
  ErrorCode,
  ForbiddenError,
  formatPath,
  httpStatusOf,
  isFinalRunStatus,
  isKisJobsError,
  isRetryableStatus,
  KisJobsError,
  NOT_FOUND_CODES,
  NotFoundError,
  ProtocolError,
  RateLimitedError,
  RUN_STATUSES,
  toErrorBody,
  toErrorResponse,
  toValidationIssues,
  UnauthenticatedError,
  UnavailableError,
  ValidationError,
  type ErrorStatus,
} from '@kisjobs/protocol';

describe('error code table', () => {
  it('maps every code to one of the API statuses', () => {
    expect(ERROR_CODES.length).toBeGreaterThan(0);
    expect(ERROR_CODES).toEqual(Object.keys(ERROR_STATUS));
    expect(ErrorCode.options).toEqual(ERROR_CODES);
    for (const code of ERROR_CODES) {
      const status = httpStatusOf(code);
      expect({ code, known: ERROR_STATUSES.includes(status) }).toEqual({ code, known: true });
      expect(new KisJobsError(code, 'x').status).toBe(status);
    }
  });

  it('uses every status and has the codes DESIGN §6 promises', () => {
    expect(new Set(Object.values(ERROR_STATUS))).toEqual(new Set(ERROR_STATUSES));
    expect(ERROR_STATUS).toMatchObject({
      VALIDATION_FAILED: 400,
      UNAUTHENTICATED: 401,
      FORBIDDEN: 403,
      NOT_FOUND: 404,
      CONFLICT: 409,
      UNPROCESSABLE: 422,
      RATE_LIMITED: 429,
      INTERNAL: 500,
      UNAVAILABLE: 503,
      RUN_NOT_FOUND: 404,
      JOB_NOT_FOUND: 404,
      CONFIG_INVALID: 422,
      EXECUTOR_TOKEN_INVALID: 401,
      PAYLOAD_INVALID: 400,
      CRON_INVALID: 400,
    });
  });

  it('codes are stable upper snake case', () => {
    for (const code of ERROR_CODES) expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });

  it('decides retryable by status, and only 429/500/503 retry by default', () => {
    const retryable = ERROR_STATUSES.filter((status: ErrorStatus) => isRetryableStatus(status));
    expect(retryable).toEqual([429, 500, 503]);
    expect(new KisJobsError('UNAVAILABLE', 'db down').retryable).toBe(true);
    expect(new KisJobsError('UNAVAILABLE', 'gone for good', { retryable: false }).retryable).toBe(false);
    expect(new ValidationError([]).retryable).toBe(false);
  });
});

describe('error classes', () => {
  it('carry code, status and details', () => {
    const notFound = new NotFoundError('run', 'run_x');
    expect(notFound).toMatchObject({
      code: 'RUN_NOT_FOUND',
      status: 404,
      details: { resource: 'run', id: 'run_x' },
    });
    for (const [resource, code] of Object.entries(NOT_FOUND_CODES)) {
      expect(httpStatusOf(code)).toBe(404);
      expect(resource).toMatch(/^[a-z]+$/);
    }
    expect(new ConflictError('already finished', { code: 'RUN_ALREADY_FINISHED' })).toMatchObject({
      status: 409,
    });
    expect(new UnauthenticatedError(undefined, 'EXECUTOR_TOKEN_INVALID')).toMatchObject({ status: 401 });
    expect(new ForbiddenError('no grant', 'SCENE_ACCESS_DENIED')).toMatchObject({ status: 403 });
    expect(new RateLimitedError(1_500)).toMatchObject({ status: 429, retryAfterMs: 1_500, retryable: true });
    expect(new UnavailableError('no executor', { code: 'NO_EXECUTOR_AVAILABLE' })).toMatchObject({
      status: 503,
    });
    const protocol = new ProtocolError('runEvent', [
      { path: 'summary[0].rowsIn', message: 'Expected number' },
    ]);
    expect(protocol).toBeInstanceOf(ValidationError);
    expect(protocol).toBeInstanceOf(KisJobsError);
    expect(isKisJobsError(protocol)).toBe(true);
    expect(isKisJobsError(new Error('x'))).toBe(false);
    expect(protocol.message).toBe('Invalid runEvent payload: summary[0].rowsIn: Expected number');
  });
});

describe('toErrorBody', () => {
  it('gives the one API shape for our errors', () => {
    const err = new ValidationError([{ path: 'schedule.timezone', message: 'Unknown time zone' }]);
    const body = toErrorBody(err);
    expect(body).toEqual({
      error: {
        code: 'VALIDATION_FAILED',
        message: 'schedule.timezone: Unknown time zone',
        details: { issues: [{ path: 'schedule.timezone', message: 'Unknown time zone' }] },
      },
    });
    expect(ErrorBody.safeParse(body).success).toBe(true);
    expect(toErrorResponse(err).status).toBe(400);
    expect(toErrorBody(new KisJobsError('CONFLICT', 'x'))).toEqual({
      error: { code: 'CONFLICT', message: 'x' },
    });
  });

  it('turns a ZodError into VALIDATION_FAILED naming the fields', () => {
    const result = z.object({ a: z.array(z.object({ b: z.number() })) }).safeParse({ a: [{ b: 'x' }] });
    if (result.success) throw new Error('expected failure');
    const { status, body } = toErrorResponse(result.error);
    expect(status).toBe(400);
    expect(body.error.code).toBe('VALIDATION_FAILED');
    expect(body.error.details).toEqual({ issues: [{ path: 'a[0].b', message: expect.any(String) }] });
  });

  it('never leaks an unexpected error: no message, no stack', () => {
    for (const thrown of [new Error('password=hunter2 at db.ts:42'), 'string', null, { stack: 's' }]) {
      const { status, body } = toErrorResponse(thrown);
      expect(status).toBe(500);
      expect(body).toEqual({ error: { code: 'INTERNAL', message: 'Internal error' } });
      expect(JSON.stringify(body)).not.toContain('hunter2');
    }
    expect(JSON.stringify(toErrorBody(new NotFoundError('job', 'job_x')))).not.toContain('stack');
  });
});

describe('validation issues', () => {
  it('formats paths as a.b[0].c and quotes odd keys', () => {
    expect(formatPath(['summary', 0, 'rowsIn'])).toBe('summary[0].rowsIn');
    expect(formatPath([0, 'a'])).toBe('[0].a');
    expect(formatPath(['params', 'region.code'])).toBe('params["region.code"]');
    expect(formatPath(['params', 'with space', 2])).toBe('params["with space"][2]');
    expect(formatPath([])).toBe('');
  });

  it('reports the closest branch of a plain union under the union path', () => {
    const schema = z.object({
      w: z.union([z.object({ a: z.string() }), z.object({ b: z.number(), c: z.number() })]),
    });
    const result = schema.safeParse({ w: { a: 1 } });
    if (result.success) throw new Error('expected failure');
    expect(toValidationIssues(result.error.issues).map((i) => i.path)).toEqual(['w.a']);
  });

  it('names each unknown key of a strict object', () => {
    const result = z.strictObject({ a: z.string() }).safeParse({ a: 'x', enable: true, b: 1 });
    if (result.success) throw new Error('expected failure');
    expect(toValidationIssues(result.error.issues)).toEqual([
      { path: 'enable', message: 'Unknown field' },
      { path: 'b', message: 'Unknown field' },
    ]);
  });
});

describe('assertNever and exhaustive helpers', () => {
  it('throws on a value the types ruled out', () => {
    expect(() => assertNever('surprise' as never)).toThrow('Unexpected value: "surprise"');
  });

  it('isFinalRunStatus: only pending and running are not final', () => {
    expect(RUN_STATUSES.filter((status) => !isFinalRunStatus(status))).toEqual(['pending', 'running']);
  });
});
