/**
 * Input checks run before a function: `source.must` (cheap, on the hot path) and the typed `input` schema.
 */
import { z } from 'zod';
import type { RowSchema } from './types.js';

export interface MissingSourceField {
  readonly rowIndex: number;
  readonly field: string;
  /** The row is not a (non-null, non-array) object at all. */
  readonly notObject: boolean;
}

/**
 * The first row lacking a `source.must` field (the exact rule, one row at a time). A field is present when
 * the row has it as an own property whose value is not `undefined` (a row must survive JSON, and JSON drops
 * `undefined`).
 */
export function findMissingSourceField(
  rows: readonly unknown[],
  must: readonly string[],
): MissingSourceField | undefined {
  if (must.length === 0) return undefined;
  for (let i = 0; i < rows.length; i++) {
    const missing = missingInRow(rows[i], i, must);
    if (missing !== undefined) return missing;
  }
  return undefined;
}

function missingInRow(
  row: unknown,
  rowIndex: number,
  must: readonly string[],
): MissingSourceField | undefined {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) {
    return { rowIndex, field: must[0] ?? '', notObject: true };
  }
  const record = row as Record<string, unknown>;
  for (let f = 0; f < must.length; f++) {
    const field = must[f] as string;
    if (record[field] === undefined || !Object.hasOwn(record, field))
      return { rowIndex, field, notObject: false };
  }
  return undefined;
}

const OBJECT_PROTOTYPE: unknown = Object.prototype;

export type SourceMustCheck = (rows: readonly unknown[]) => MissingSourceField | undefined;

/** Index of the first row from `start` that is not a plain object with every field defined, or -1. */
type FastScan = (rows: readonly unknown[], start: number, objectPrototype: unknown) => number;

/**
 * The fast scan for one `source.must` list, as generated code: each field becomes a property load with a
 * constant name, so every function gets its own monomorphic loads (a loop over the names, or closures shared
 * by every function, turn into megamorphic keyed loads that cost about ten times more per row). Field names
 * enter the code only as JSON string literals. Returns undefined where code generation is disabled
 * (`--disallow-code-generation-from-strings`); the exact rule then does the work.
 */
function generateFastScan(fields: readonly string[]): FastScan | undefined {
  const tests = fields.map((f) => `r[${JSON.stringify(f)}] !== undefined`).join(' && ');
  const body = [
    '"use strict";',
    'for (let i = start; i < rows.length; i++) {',
    '  const r = rows[i];',
    `  if (typeof r === "object" && r !== null && r.__proto__ === objectPrototype && ${tests}) continue;`,
    '  return i;',
    '}',
    'return -1;',
  ].join('\n');
  try {
    // oxlint-disable-next-line typescript/no-implied-eval -- deliberate; field names are JSON string literals
    return new Function('rows', 'start', 'objectPrototype', body) as FastScan;
  } catch {
    return undefined;
  }
}

/**
 * Compiles the `source.must` check of one function, once. Same answers as `findMissingSourceField`.
 * Fast path: an object whose prototype is Object.prototype has an own property `k` with a defined value
 * exactly when `row[k] !== undefined`, provided `k` is not the name of an Object.prototype member. The
 * prototype is read through `__proto__`, which the JIT inlines (Object.getPrototypeOf costs about ten times
 * more per row); a row with an own `__proto__` key fails that test and is simply checked exactly. Rows the
 * scan stops at (null or other prototype, array, primitive, a missing field) go through the exact rule,
 * which also says which field is missing.
 */
export function compileSourceMust(
  must: readonly string[],
  options: { readonly generate?: boolean } = {},
): SourceMustCheck {
  if (must.length === 0) return () => undefined;
  const fields = [...must];
  const generate = options.generate !== false && !fields.some((k) => k in Object.prototype);
  const scan = generate ? generateFastScan(fields) : undefined;
  return (rows) => {
    let i = 0;
    while (i < rows.length) {
      if (scan !== undefined) {
        i = scan(rows, i, OBJECT_PROTOTYPE);
        if (i === -1) return undefined;
      }
      const missing = missingInRow(rows[i], i, fields);
      if (missing !== undefined) return missing;
      i++;
    }
    return undefined;
  };
}

export type RowsValidation =
  | { readonly ok: true; readonly rows: unknown[] }
  | { readonly ok: false; readonly rowIndex: number; readonly path: string; readonly message: string };

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'symbol' ? p.toString() : String(p))).join('.');
}

function failure(rowIndex: number, error: z.core.$ZodError): RowsValidation {
  const issue = error.issues[0];
  return {
    ok: false,
    rowIndex,
    path: issue === undefined ? '' : formatPath(issue.path),
    message: issue?.message ?? error.message,
  };
}

/** Parses every row with `schema`; schemas with async refinements or transforms are supported. */
export async function validateRows(schema: RowSchema, rows: readonly unknown[]): Promise<RowsValidation> {
  const parsed = new Array<unknown>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    let result: z.ZodSafeParseResult<unknown>;
    try {
      result = z.safeParse(schema, rows[i]);
    } catch (err) {
      if (!(err instanceof z.core.$ZodAsyncError)) throw err;
      result = await z.safeParseAsync(schema, rows[i]);
    }
    if (!result.success) return failure(i, result.error);
    parsed[i] = result.data;
  }
  return { ok: true, rows: parsed };
}
