/**
 * Zod building blocks for YAML fields, over the data `readYamlSource` produces. A string field takes a
 * scalar's literal text; a number or boolean field takes the value YAML resolved. A YAML null counts as
 * absent, except as a params value, where `~` is "". A sequence or a map where a scalar is expected is an
 * INVALID_TYPE issue naming the field.
 */
import { z } from 'zod';
import type { ConfigIssueCode } from './issues.js';
import { YamlScalar, describeValue } from './yaml-source.js';

function scalar(expected: string) {
  return z.instanceof(YamlScalar, {
    error: (issue) =>
      issue.input === undefined ? 'required' : `expected ${expected}, got ${describeValue(issue.input)}`,
  });
}

/** Any scalar, as its literal text. */
export const Text = scalar('a string').transform((s) => s.text);
/** Names and references: non-empty literal text. */
export const Name = Text.pipe(z.string().min(1, 'must not be empty'));
export const TextList = z.array(Text);
export const NameList = z.array(Name);

/** A params value: literal text; `~` (or nothing) is "". */
export const ParamValue = scalar('a string')
  .nullable()
  .transform((s) => s?.text ?? '');
/** A params map: string keys, string values. */
export const Params = z.record(z.string(), ParamValue);

/** An integer >= `min`, written as a YAML number (a quoted "3" is a string, as in the original). */
export function integer(min: number) {
  return scalar('an integer')
    .transform((s) => s.value)
    .pipe(z.int({ error: notAnInteger }).min(min));
}

function notAnInteger(issue: { code?: string; input?: unknown }): string | undefined {
  return issue.code === 'invalid_type' ? `expected an integer, got ${describeValue(issue.input)}` : undefined;
}

export const Flag = scalar('true or false')
  .transform((s) => s.value)
  .pipe(z.boolean());

/** Flow `status`: 1 enabled, 0 disabled. */
export const Status = scalar('1 or 0')
  .transform((s) => s.value)
  .pipe(z.literal([0, 1]));

/** A required field: a YAML null counts as missing. */
export function required<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => value ?? undefined, schema);
}

/** Run an object's cross-field check even when one of its fields failed, so all problems are reported. */
export const evenWithFieldErrors = {
  when: (payload: { value: unknown }) => typeof payload.value === 'object' && payload.value !== null,
};

/** Issue params carrying the ConfigIssueCode for a custom check. */
export function issueCode(code: ConfigIssueCode): { code: ConfigIssueCode } {
  return { code };
}
