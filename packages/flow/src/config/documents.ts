/**
 * One YAML document -> one declared config item: checks `kistype`, validates the dialect schema and
 * resolves the dialect into the model (`name`, `id`, defaults, `…Ms` units). Cross-references are checked
 * later, over all documents (see link.ts), so each item keeps the fields its references were written in.
 */
import { ConnDoc, FlowDoc, FuncDoc, GlobalDoc, KISTYPES } from './dialects.js';
import type { KisType } from './dialects.js';
import type { ConfigIssue, ConfigIssueCode } from './issues.js';
import type { ConnConfig, FlowConfig, FuncConfig, GlobalConfig } from './model.js';
import { unique } from './names.js';
import { validateDocument } from './validate.js';
import { YamlScalar, describeValue } from './yaml-source.js';
import type { SourceDocument } from './yaml-source.js';

interface DeclaredBase {
  readonly at: SourceDocument;
  /** The key the name was written under, e.g. `fname` or `fid`. */
  readonly nameField: string;
}
/** A field path as written, e.g. `['flows', 2, 'fid']`. */
export type FieldPath = readonly (string | number)[];
export type Declared =
  | (DeclaredBase & { readonly kind: 'func'; readonly config: FuncConfig; readonly connectorPath: FieldPath })
  | (DeclaredBase & { readonly kind: 'flow'; readonly config: FlowConfig; readonly stepPaths: FieldPath[] })
  | (DeclaredBase & { readonly kind: 'conn'; readonly config: ConnConfig })
  | (DeclaredBase & { readonly kind: 'global'; readonly config: GlobalConfig });

/** A reference to another item, e.g. a flow step naming a function, and the field it is written in. */
export interface Reference {
  readonly target: 'func' | 'conn';
  readonly name: string;
  readonly path: FieldPath;
}

/**
 * What can still be read from a document that failed validation, so the cross-checks stay complete: its
 * name (references to it are not reported as unknown) and the references it makes.
 */
export interface Invalid {
  readonly at: SourceDocument;
  readonly kind: KisType;
  readonly name?: string;
  /** The key the name was written under. */
  readonly nameField?: string;
  readonly refs: readonly Reference[];
}

/** A document's contribution to the cross-checks: valid (`Declared`) or not (`Invalid`). */
export type Entry = Declared | Invalid;

export function isDeclared(entry: Entry): entry is Declared {
  return 'config' in entry;
}

export interface DocumentResult {
  /** Absent for an empty document, or one whose kistype could not be read. */
  readonly entry?: Entry;
  readonly issues: ConfigIssue[];
}

const NAME_FIELDS: Readonly<Record<KisType, readonly [string, string] | undefined>> = {
  func: ['fname', 'fid'],
  flow: ['flow_name', 'flow_id'],
  conn: ['cname', 'cid'],
  global: undefined,
};

export function declareDocument(doc: SourceDocument): DocumentResult {
  const data = doc.data;
  if (data === null) return { issues: [] }; // an empty document, e.g. after a trailing `---`
  const problem = (code: ConfigIssueCode, field: string, message: string): DocumentResult => {
    const line = doc.lineOf(field === '' ? [] : [field]);
    const issue = { code, file: doc.file, document: doc.document, field, message };
    return { issues: [line === undefined ? issue : { ...issue, line }] };
  };
  if (!isMap(data)) {
    return problem('INVALID_TYPE', '', `a document must be a map with a kistype, got ${describeValue(data)}`);
  }
  const kistype = data['kistype'];
  if (kistype === undefined || kistype === null) {
    return problem('MISSING_KISTYPE', 'kistype', `kistype is required: one of ${KISTYPES.join(', ')}`);
  }
  if (!(kistype instanceof YamlScalar)) {
    return problem(
      'INVALID_TYPE',
      'kistype',
      `expected one of ${KISTYPES.join(', ')}, got ${describeValue(kistype)}`,
    );
  }
  const kind = KISTYPES.find((k) => k === kistype.text);
  if (kind === undefined) {
    return problem(
      'UNKNOWN_KISTYPE',
      'kistype',
      `unknown kistype ${describeValue(kistype)}; expected one of ${KISTYPES.join(', ')}`,
    );
  }
  const result = declareKind(kind, doc);
  if (result.entry !== undefined) return result;
  const fields = NAME_FIELDS[kind];
  const named = fields === undefined ? undefined : firstText(data, fields);
  const refs = rawReferences(kind, data);
  const name = named === undefined ? {} : { name: named.text, nameField: named.key };
  return { ...result, entry: { at: doc, kind, ...name, refs } };
}

/** The references an invalid document makes, read from its raw YAML as far as they are readable. */
function rawReferences(kind: KisType, data: Readonly<Record<string, unknown>>): Reference[] {
  const refs: Reference[] = [];
  const option = data['option'];
  if (kind === 'func' && isMap(option)) {
    const found = firstText(option, ['cname', 'cid']);
    if (found !== undefined) refs.push({ target: 'conn', name: found.text, path: ['option', found.key] });
  }
  const steps = data['flows'];
  if (kind === 'flow' && Array.isArray(steps)) {
    for (const [i, step] of steps.entries()) {
      const found = isMap(step) ? firstText(step, ['fname', 'fid']) : undefined;
      if (found !== undefined) refs.push({ target: 'func', name: found.text, path: ['flows', i, found.key] });
    }
  }
  return refs;
}

function firstText(
  map: Readonly<Record<string, unknown>>,
  keys: readonly string[],
): { key: string; text: string } | undefined {
  for (const key of keys) {
    const text = textOf(map[key]);
    if (text !== undefined) return { key, text };
  }
  return undefined;
}

function declareKind(kind: KisType, at: SourceDocument): DocumentResult {
  switch (kind) {
    case 'func': {
      const v = validateDocument(FuncDoc, at);
      if (!v.ok) return { issues: v.issues };
      const doc = v.value;
      const connectorPath = ['option', doc.option?.cname != null ? 'cname' : 'cid'];
      const declared = {
        kind,
        at,
        nameField: nameField(doc.fname, 'fname', 'fid'),
        config: funcConfig(doc),
        connectorPath,
      };
      return { issues: [], entry: declared };
    }
    case 'flow': {
      const v = validateDocument(FlowDoc, at);
      if (!v.ok) return { issues: v.issues };
      const doc = v.value;
      const stepPaths = doc.flows.map((step, i) => ['flows', i, step.fname != null ? 'fname' : 'fid']);
      const declared = {
        kind,
        at,
        nameField: nameField(doc.flow_name, 'flow_name', 'flow_id'),
        config: flowConfig(doc),
        stepPaths,
      };
      return { issues: [], entry: declared };
    }
    case 'conn': {
      const v = validateDocument(ConnDoc, at);
      if (!v.ok) return { issues: v.issues };
      return {
        issues: [],
        entry: {
          kind,
          at,
          nameField: nameField(v.value.cname, 'cname', 'cid'),
          config: connConfig(v.value),
        },
      };
    }
    case 'global': {
      const v = validateDocument(GlobalDoc, at);
      if (!v.ok) return { issues: v.issues };
      return { issues: [], entry: { kind, at, nameField: 'kistype', config: globalConfig(v.value) } };
    }
  }
}

export function funcConfig(doc: FuncDoc): FuncConfig {
  const option = doc.option;
  const connectorName = option?.cname ?? option?.cid;
  const timeoutMs = option?.timeout_ms;
  return {
    kind: 'func',
    ...nameAndId(doc.fname, doc.fid),
    mode: doc.fmode,
    source: { name: doc.source?.name ?? '', must: doc.source?.must ?? [] },
    ...(connectorName == null ? {} : { connectorName }),
    retryTimes: option?.retry_times ?? 0,
    retryDelayMs: option?.return_duration ?? option?.retry_duration ?? 0,
    ...(timeoutMs == null ? {} : { timeoutMs }),
    defaultParams: option?.default_params ?? {},
  };
}

export function flowConfig(doc: FlowDoc): FlowConfig {
  const maxSteps = doc.max_steps;
  return {
    kind: 'flow',
    ...nameAndId(doc.flow_name, doc.flow_id),
    enabled: doc.status !== 0,
    steps: doc.flows.map((step) => ({ funcName: step.fname ?? step.fid ?? '', params: step.params ?? {} })),
    ...(maxSteps == null ? {} : { maxSteps }),
  };
}

export function connConfig(doc: ConnDoc): ConnConfig {
  return {
    kind: 'conn',
    ...nameAndId(doc.cname, doc.cid),
    type: doc.type,
    addrs: doc.addrs ?? '',
    key: doc.key ?? '',
    params: doc.params ?? {},
    load: unique(doc.load ?? []),
    save: unique(doc.save ?? []),
  };
}

export function globalConfig(doc: GlobalDoc): GlobalConfig {
  const serve = doc.prometheus_serve;
  return {
    kind: 'global',
    prometheusEnable: doc.prometheus_enable ?? false,
    prometheusListen: doc.prometheus_listen ?? false,
    ...(serve == null || serve === '' ? {} : { prometheusServe: serve }),
  };
}

/** The name is the current-dialect key; the older-dialect id is kept only when both are given and differ. */
function nameAndId(
  name: string | null | undefined,
  id: string | null | undefined,
): { name: string; id?: string } {
  if (name == null) return { name: id ?? '' };
  return id == null || id === name ? { name } : { name, id };
}

function nameField(name: string | null | undefined, primary: string, alias: string): string {
  return name == null ? alias : primary;
}

function isMap(value: unknown): value is Readonly<Record<string, unknown>> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof YamlScalar)
  );
}

function textOf(value: unknown): string | undefined {
  return value instanceof YamlScalar && value.text !== '' ? value.text : undefined;
}
