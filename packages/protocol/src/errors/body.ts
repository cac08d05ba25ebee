/**
 * The API's one error shape (DESIGN §6): `{"error":{"code":"STABLE_CODE","message":"...","details":...}}`.
 * Never a stack, and never the message of an unexpected error (it may hold internals): those become
 * `INTERNAL` with a generic message, and the caller logs the original.
 */
import { z } from 'zod';
import { ErrorCode, type ErrorStatus } from './codes.js';
import { KisJobsError, ValidationError } from './classes.js';
import { toValidationIssues } from './issues.js';

export const ErrorBody = z.object({
  error: z.object({
    code: ErrorCode,
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export function toErrorBody(err: unknown): ErrorBody {
  return toErrorResponse(err).body;
}

/** The status and body for an HTTP handler's `{status, body}` result. */
export function toErrorResponse(err: unknown): { status: ErrorStatus; body: ErrorBody } {
  if (err instanceof KisJobsError) {
    const error: ErrorBody['error'] = { code: err.code, message: err.message };
    if (err.details !== undefined) error.details = err.details;
    return { status: err.status, body: { error } };
  }
  if (err instanceof z.ZodError) return toErrorResponse(new ValidationError(toValidationIssues(err.issues)));
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'Internal error' } } };
}
