/**
 * Validation issues in the one format every side shows: `{ path: 'a.b[0].c', message }`.
 * The path is empty when the value as a whole is wrong (not JSON, not an object...).
 */
import { z } from 'zod';

export const ValidationIssue = z.object({
  path: z.string(),
  message: z.string(),
});
export type ValidationIssue = z.infer<typeof ValidationIssue>;

type PathSegment = PropertyKey | { readonly key: PropertyKey };

/** Joins a zod issue path: `['summary', 0, 'rowsIn']` → `summary[0].rowsIn`; odd keys are quoted. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const raw of path) {
    const segment = typeof raw === 'object' ? raw.key : raw;
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'symbol') out += `[${JSON.stringify(String(segment))}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/**
 * Flattens zod issues to `ValidationIssue`s. A plain union that matched no branch reports the issues of
 * the branch that came closest (fewest issues), under the union's own path, rather than "Invalid input".
 */
export function toValidationIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []) {
  const out: ValidationIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const closest = issue.errors.reduce((best, branch) => (branch.length < best.length ? branch : best));
      if (closest.length > 0) {
        out.push(...toValidationIssues(closest, path));
        continue;
      }
    }
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: formatPath([...path, key]), message: 'Unknown field' });
      continue;
    }
    out.push({ path: formatPath(path), message: issue.message });
  }
  return out;
}

/** Parses with a schema; on failure returns the issues in our format instead of a `ZodError`. */
export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
): { ok: true; value: z.output<S> } | { ok: false; issues: ValidationIssue[] } {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, issues: toValidationIssues(result.error.issues) };
}
