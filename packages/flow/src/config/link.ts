/**
 * All documents -> one KisConfig: duplicate names, references from flows to functions and from functions to
 * connectors, and the connector `save`/`load` lists derived from the functions that use them. Pure.
 * A reference names the target's `name`, or its `id` when exactly one target has that id. Invalid documents
 * take part as far as they can be read (their name, their references), so one load reports every problem.
 */
import { isDeclared } from './documents.js';
import type { Declared, Entry, FieldPath, Reference } from './documents.js';
import { formatField } from './issues.js';
import type { ConfigIssue, ConfigIssueCode, ConfigLoadResult } from './issues.js';
import type { ConnConfig, FlowConfig, FuncConfig } from './model.js';
import { compareNames, unique } from './names.js';
import type { SourceDocument } from './yaml-source.js';

type Of<K extends Declared['kind']> = Extract<Declared, { kind: K }>;

/** One kind's valid items by name, and their names by id. */
interface Index<T> {
  readonly byName: ReadonlyMap<string, T>;
  readonly byId: ReadonlyMap<string, readonly string[]>;
}

/** `entries` in source order: the first declaration of a name wins, each later one is a DUPLICATE_NAME. */
export function link(entries: readonly Entry[]): ConfigLoadResult {
  const issues: ConfigIssue[] = [];
  const report = (at: SourceDocument, code: ConfigIssueCode, path: FieldPath, message: string): void => {
    const line = at.lineOf(path);
    const issue = { code, file: at.file, document: at.document, field: formatField(path), message };
    issues.push(line === undefined ? issue : { ...issue, line });
  };

  const firstAt = new Map<string, SourceDocument>();
  const declared: Declared[] = [];
  const invalidNames = new Set<string>();
  for (const entry of entries) {
    const name = entry.kind === 'global' ? '' : isDeclared(entry) ? entry.config.name : entry.name;
    const nameField = entry.kind === 'global' ? 'kistype' : entry.nameField;
    if (name === undefined || nameField === undefined) continue; // invalid, and no readable name
    const key = `${entry.kind}:${name}`;
    const first = firstAt.get(key);
    if (first !== undefined) {
      const message =
        entry.kind === 'global'
          ? `only one global document is allowed (the first is in ${where(first)})`
          : `${entry.kind} "${name}" is defined twice: in ${where(first)} and in ${where(entry.at)}`;
      report(entry.at, 'DUPLICATE_NAME', [nameField], message);
      continue;
    }
    firstAt.set(key, entry.at);
    if (isDeclared(entry)) declared.push(entry);
    else invalidNames.add(key);
  }

  const funcs = index(declared.filter((d): d is Of<'func'> => d.kind === 'func'));
  const flows = index(declared.filter((d): d is Of<'flow'> => d.kind === 'flow'));
  const conns = index(declared.filter((d): d is Of<'conn'> => d.kind === 'conn'));
  const global = declared.find((d): d is Of<'global'> => d.kind === 'global');

  /** The name a reference resolves to; reports it when it names nothing. */
  const follow = (at: SourceDocument, owner: string, ref: Reference): string | undefined => {
    const resolved = resolve(ref.target === 'func' ? funcs : conns, ref.name);
    if (resolved === undefined && !invalidNames.has(`${ref.target}:${ref.name}`)) {
      const [code, what] =
        ref.target === 'func'
          ? (['UNKNOWN_FUNC_REF', 'function'] as const)
          : (['UNKNOWN_CONN_REF', 'connector'] as const);
      report(at, code, ref.path, `${owner} names ${what} "${ref.name}", which is not defined`);
    }
    return resolved;
  };

  const linkedFuncs = [...funcs.byName.values()].map((item): FuncConfig => {
    const name = item.config.connectorName;
    if (name === undefined) return item.config;
    const ref: Reference = { target: 'conn', name, path: item.connectorPath };
    return { ...item.config, connectorName: follow(item.at, `func "${item.config.name}"`, ref) ?? name };
  });
  const linkedFlows = [...flows.byName.values()].map((item): FlowConfig => {
    const steps = item.config.steps.map((step, i) => {
      const ref: Reference = { target: 'func', name: step.funcName, path: item.stepPaths[i] ?? ['flows', i] };
      return { ...step, funcName: follow(item.at, `flow "${item.config.name}"`, ref) ?? step.funcName };
    });
    return { ...item.config, steps };
  });
  // Invalid documents and duplicates are not in the config, but what they reference must exist too.
  const linked = new Set<Entry>(declared);
  for (const entry of entries) {
    if (linked.has(entry) || entry.kind === 'global') continue;
    const name = isDeclared(entry) ? entry.config.name : entry.name;
    const owner = name === undefined ? `this ${entry.kind}` : `${entry.kind} "${name}"`;
    for (const ref of referencesOf(entry)) follow(entry.at, owner, ref);
  }

  if (issues.length > 0) return { ok: false, issues };
  const linkedConns = [...conns.byName.values()].map((item) => withUsers(item.config, linkedFuncs));
  return {
    ok: true,
    config: {
      funcs: byName(linkedFuncs),
      flows: byName(linkedFlows),
      conns: byName(linkedConns),
      ...(global === undefined ? {} : { global: global.config }),
    },
    disabledFlows: sortedNames(linkedFlows.filter((f) => !f.enabled)),
  };
}

function referencesOf(entry: Entry): readonly Reference[] {
  if (!isDeclared(entry)) return entry.refs;
  if (entry.kind === 'func' && entry.config.connectorName !== undefined) {
    return [{ target: 'conn', name: entry.config.connectorName, path: entry.connectorPath }];
  }
  if (entry.kind === 'flow') {
    return entry.config.steps.map((step, i) => ({
      target: 'func',
      name: step.funcName,
      path: entry.stepPaths[i] ?? ['flows', i],
    }));
  }
  return [];
}

function index<T extends { readonly config: { readonly name: string; readonly id?: string } }>(
  items: readonly T[],
): Index<T> {
  const byName = new Map<string, T>();
  const byId = new Map<string, string[]>();
  for (const item of items) {
    const { name, id } = item.config;
    byName.set(name, item);
    if (id !== undefined) byId.set(id, [...(byId.get(id) ?? []), name]);
  }
  return { byName, byId };
}

/** The target's name: by name, else by id when exactly one target has that id. */
function resolve(idx: Index<unknown>, ref: string): string | undefined {
  if (idx.byName.has(ref)) return ref;
  const names = idx.byId.get(ref);
  return names?.length === 1 ? names[0] : undefined;
}

/** A connector's declared lists plus the Save/Load functions that name it, de-duplicated. */
function withUsers(conn: ConnConfig, funcs: readonly FuncConfig[]): ConnConfig {
  const users = (mode: FuncConfig['mode']): string[] =>
    sortedNames(funcs.filter((f) => f.mode === mode && f.connectorName === conn.name));
  return {
    ...conn,
    save: unique([...conn.save, ...users('Save')]),
    load: unique([...conn.load, ...users('Load')]),
  };
}

function byName<T extends { readonly name: string }>(items: readonly T[]): Record<string, T> {
  const sorted = [...items].sort((a, b) => compareNames(a.name, b.name));
  return Object.fromEntries(sorted.map((item) => [item.name, item]));
}

function sortedNames(items: readonly { readonly name: string }[]): string[] {
  return items.map((item) => item.name).sort(compareNames);
}

function where(at: SourceDocument): string {
  return `${at.file}#${at.document}`;
}
