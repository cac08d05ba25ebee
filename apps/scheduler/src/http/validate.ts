/**
 * Request validation at the edge (DESIGN §2.6). Every part is parsed with the route's zod schema; all issues
 * of all parts are reported at once in one 400 VALIDATION_FAILED, each naming its field: body fields by their
 * path within the body (`schedule.expr`, as the DTOs name them), query and path parameters with a `query.` or
 * `params.` prefix (`query.limit`, `params.id`).
 *
 * Query strings arrive as text (`?limit=20`), one value or a list when a name repeats; query schemas coerce
 * (`PageLimit`) or use `queryList` / `QueryBoolean` from @kisjobs/protocol (re-exported here).
 */
import { toValidationIssues, ValidationError, type ValidationIssue } from '@kisjobs/protocol';
import type { Route } from './route.js';

export interface ParsedParts {
  readonly params: unknown;
  readonly query: unknown;
  readonly body: unknown;
}

export interface RawParts {
  readonly params: unknown;
  readonly query: unknown;
  /** Undefined when the route takes no body or none was sent. */
  readonly body: unknown;
}

/** Parses every part; throws one ValidationError listing the issues of all of them. */
export async function parseParts(route: Route, raw: RawParts): Promise<ParsedParts> {
  const [params, query, body] = await Promise.all([
    route.params.safeParseAsync(raw.params),
    route.query.safeParseAsync(raw.query),
    route.body === undefined ? Promise.resolve(undefined) : route.body.safeParseAsync(raw.body),
  ]);
  const issues: ValidationIssue[] = [];
  if (!params.success) issues.push(...toValidationIssues(params.error.issues, ['params']));
  if (!query.success) issues.push(...toValidationIssues(query.error.issues, ['query']));
  if (body !== undefined && !body.success) issues.push(...toValidationIssues(body.error.issues));
  if (issues.length > 0) throw new ValidationError(issues);
  return {
    params: params.success ? params.data : undefined,
    query: query.success ? query.data : undefined,
    body: body?.success === true ? body.data : undefined,
  };
}

export { QueryBoolean, queryList } from '@kisjobs/protocol';
