/**
 * Runs a dialect schema over one YAML document and turns zod's issues into ConfigIssues: the code, the
 * field path as written in the YAML, a message in the YAML's own words, and the line.
 */
import type { z } from 'zod';
import { CONFIG_ISSUE_CODES, formatField } from './issues.js';
import type { ConfigIssue, ConfigIssueCode } from './issues.js';
import { describeValue } from './yaml-source.js';
import type { SourceDocument } from './yaml-source.js';

export type Validated<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly issues: ConfigIssue[] };

export function validateDocument<S extends z.ZodType>(
  schema: S,
  doc: SourceDocument,
): Validated<z.output<S>> {
  const result = schema.safeParse(doc.data, { reportInput: true, error: messageOf });
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => {
      const line = doc.lineOf(issue.path);
      return {
        code: codeOf(issue),
        file: doc.file,
        document: doc.document,
        field: formatField(issue.path),
        message: issue.message,
        ...(line === undefined ? {} : { line }),
      };
    }),
  };
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a map',
  record: 'a map',
  array: 'a sequence',
};

function messageOf(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return 'required';
    return `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(issue.input)}`;
  }
  if (issue.code === 'invalid_value') {
    return `expected one of ${issue.values.map(String).join(', ')}; got ${describeValue(issue.input)}`;
  }
  if (issue.code === 'too_small') {
    if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'must not be empty';
    if (issue.origin === 'array') return `needs at least ${String(issue.minimum)} item(s)`;
    return `must be at least ${String(issue.minimum)}, got ${describeValue(issue.input)}`;
  }
  if (issue.code === 'too_big')
    return `must be at most ${String(issue.maximum)}, got ${describeValue(issue.input)}`;
  return undefined; // zod's own message
}

/** missing -> MISSING_FIELD, wrong kind of value -> INVALID_TYPE, right kind but not allowed -> INVALID_VALUE. */
function codeOf(issue: z.core.$ZodIssue): ConfigIssueCode {
  if (issue.code === 'invalid_type') return issue.input === undefined ? 'MISSING_FIELD' : 'INVALID_TYPE';
  if (issue.code === 'custom') {
    const code: unknown = issue.params?.['code'];
    return isIssueCode(code) ? code : 'INVALID_VALUE';
  }
  if (issue.code === 'invalid_union' || issue.code === 'invalid_key' || issue.code === 'invalid_element') {
    return 'INVALID_TYPE';
  }
  return 'INVALID_VALUE';
}

function isIssueCode(value: unknown): value is ConfigIssueCode {
  return (CONFIG_ISSUE_CODES as readonly unknown[]).includes(value);
}
