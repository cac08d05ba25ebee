/**
 * YAML text -> plain data for validation. Every non-null scalar value becomes a `YamlScalar` that holds both
 * its resolved value and its literal source text, so a string field takes the text as written (`5.10` stays
 * "5.10", `0x1F` stays "0x1F") while a number field takes the number. Null scalars (`~`, `null`, nothing)
 * become `null`; map keys become their literal text.
 */
import { LineCounter, Scalar, isNode, isScalar, parseAllDocuments, visit } from 'yaml';
import type { Document } from 'yaml';
import type { ConfigIssue } from './issues.js';

/** A YAML scalar as written: the value YAML resolved it to, and its literal text. */
export class YamlScalar {
  constructor(
    readonly value: unknown,
    readonly text: string,
  ) {}
}

export interface SourceDocument {
  readonly file: string;
  /** 0-based index of the document in its file. */
  readonly document: number;
  /** Maps, arrays, `YamlScalar`s and `null`s; `null` for an empty document. */
  readonly data: unknown;
  /** 1-based line of the node at `path`, or of its closest enclosing node. */
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

export interface YamlSource {
  readonly documents: SourceDocument[];
  /** YAML_SYNTAX issues; a document with a syntax error is left out of `documents`. */
  readonly issues: ConfigIssue[];
}

/** Bounds alias expansion (a "billion laughs" document), as the `yaml` package's `toJS` counts it. */
const MAX_ALIAS_COUNT = 100;

export function readYamlSource(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter });
  const documents: SourceDocument[] = [];
  const issues: ConfigIssue[] = [];
  for (const [index, doc] of parsed.entries()) {
    const syntax = (message: string, line: number | undefined): ConfigIssue => ({
      code: 'YAML_SYNTAX',
      file,
      document: index,
      field: '',
      message,
      ...(line === undefined ? {} : { line }),
    });
    if (doc.errors.length > 0) {
      for (const error of doc.errors) issues.push(syntax(firstLine(error.message), error.linePos?.[0].line));
      continue;
    }
    keepLiteralText(doc, text);
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      issues.push(syntax(firstLine(message), lineOfNode(doc.contents, lineCounter)));
      continue;
    }
    documents.push({ file, document: index, data, lineOf: (path) => lineOf(doc, lineCounter, path) });
  }
  return { documents, issues };
}

/** For error messages: what a field held, e.g. `"abc"`, `5`, `a sequence`, `a map`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (value instanceof YamlScalar) {
    return typeof value.value === 'string' ? quote(value.text) : truncate(value.text);
  }
  if (Array.isArray(value)) return 'a sequence';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return quote(value);
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : typeof value;
}

function keepLiteralText(doc: Document, text: string): void {
  visit(doc, {
    Pair(_, pair) {
      // A collection or alias as a map key (`? [a, b]`) becomes its source text: keys are always strings.
      if (isNode(pair.key) && !isScalar(pair.key)) {
        const range = pair.key.range;
        pair.key = new Scalar(range ? text.slice(range[0], range[1]).trim() : '');
      }
    },
    Scalar(key, node) {
      const text = literalText(node);
      if (key === 'key') node.value = text ?? '';
      else if (text !== null) node.value = new YamlScalar(node.value, text);
    },
  });
}

/** The scalar's text as written (decoded for quoted and block scalars); `null` for a YAML null. */
function literalText(node: Scalar): string | null {
  if (node.value === null || node.value === undefined) return null;
  const value: unknown = node.value;
  if (typeof value === 'string') return value;
  if (node.source !== undefined) return node.source;
  return typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint'
    ? String(value)
    : (JSON.stringify(value) ?? '');
}

function lineOf(doc: Document, lineCounter: LineCounter, path: readonly PropertyKey[]): number | undefined {
  for (let depth = path.length; depth > 0; depth--) {
    const line = lineOfNode(doc.getIn(path.slice(0, depth), true), lineCounter);
    if (line !== undefined) return line;
  }
  return lineOfNode(doc.contents, lineCounter);
}

function lineOfNode(node: unknown, lineCounter: LineCounter): number | undefined {
  if (!isNode(node) || node.range === undefined || node.range === null) return undefined;
  return lineCounter.linePos(node.range[0]).line;
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/:$/, '');
}

function quote(text: string): string {
  return JSON.stringify(truncate(text));
}

function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
