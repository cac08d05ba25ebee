/**
 * KisConfig -> YAML in the current dialect (`fname`, `flow_name`, `cname`, `return_duration`). Documents
 * come in a stable order: global, then connectors, functions and flows, each sorted by name. Fields at
 * their default are left out. String values are quoted whenever plain YAML would read them as anything
 * but that string, so params stay strings. For a loaded config, load -> export -> load gives an equal config.
 */
import { stringify } from 'yaml';
import type { ConfigSource } from './load.js';
import type { ConnConfig, FlowConfig, FuncConfig, GlobalConfig, KisConfig, Params } from './model.js';
import { compareNames } from './names.js';

/** The whole config as one multi-document YAML string (`---` between documents). */
export function exportConfig(config: KisConfig): string {
  return exportConfigDocuments(config)
    .map((doc) => doc.text)
    .join('---\n');
}

/**
 * One file per document: `global.yml`, `conn-<name>.yml`, `func-<name>.yml`, `flow-<name>.yml`. Characters
 * a file system may refuse become `_`; names that would collide (also case-insensitively) get `-2`, `-3`...
 */
export function exportConfigDocuments(config: KisConfig): ConfigSource[] {
  const used = new Set<string>();
  const out: ConfigSource[] = [];
  const add = (prefix: string, name: string | undefined, doc: Record<string, unknown>): void => {
    out.push({ file: fileName(prefix, name, used), text: toYaml(doc) });
  };
  if (config.global !== undefined) add('global', undefined, globalDoc(config.global));
  for (const conn of sorted(config.conns)) add('conn', conn.name, connDoc(conn));
  for (const func of sorted(config.funcs)) add('func', func.name, funcDoc(func));
  for (const flow of sorted(config.flows)) add('flow', flow.name, flowDoc(flow));
  return out;
}

function globalDoc(global: GlobalConfig): Record<string, unknown> {
  return {
    kistype: 'global',
    prometheus_enable: global.prometheusEnable,
    prometheus_listen: global.prometheusListen,
    ...(global.prometheusServe === undefined ? {} : { prometheus_serve: global.prometheusServe }),
  };
}

function connDoc(conn: ConnConfig): Record<string, unknown> {
  return {
    kistype: 'conn',
    cname: conn.name,
    ...idOf(conn, 'cid'),
    type: conn.type,
    addrs: conn.addrs,
    key: conn.key,
    ...paramsOf('params', conn.params),
    ...(conn.load.length === 0 ? {} : { load: [...conn.load] }),
    ...(conn.save.length === 0 ? {} : { save: [...conn.save] }),
  };
}

function funcDoc(func: FuncConfig): Record<string, unknown> {
  const option = {
    ...(func.connectorName === undefined ? {} : { cname: func.connectorName }),
    ...(func.retryTimes === 0 ? {} : { retry_times: func.retryTimes }),
    ...(func.retryDelayMs === 0 ? {} : { return_duration: func.retryDelayMs }),
    ...(func.timeoutMs === undefined ? {} : { timeout_ms: func.timeoutMs }),
    ...paramsOf('default_params', func.defaultParams),
  };
  return {
    kistype: 'func',
    fname: func.name,
    ...idOf(func, 'fid'),
    fmode: func.mode,
    source: { name: func.source.name, must: [...func.source.must] },
    ...(Object.keys(option).length === 0 ? {} : { option }),
  };
}

function flowDoc(flow: FlowConfig): Record<string, unknown> {
  return {
    kistype: 'flow',
    flow_name: flow.name,
    ...idOf(flow, 'flow_id'),
    status: flow.enabled ? 1 : 0,
    ...(flow.maxSteps === undefined ? {} : { max_steps: flow.maxSteps }),
    flows: flow.steps.map((step) => ({ fname: step.funcName, ...paramsOf('params', step.params) })),
  };
}

function idOf(item: { readonly name: string; readonly id?: string }, key: string): Record<string, string> {
  return item.id === undefined || item.id === item.name ? {} : { [key]: item.id };
}

function paramsOf(key: string, params: Params): Record<string, Params> {
  return Object.keys(params).length === 0 ? {} : { [key]: { ...params } };
}

function toYaml(doc: Record<string, unknown>): string {
  return stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
}

function sorted<T extends { readonly name: string }>(items: Readonly<Record<string, T>>): T[] {
  return Object.values(items).sort((a, b) => compareNames(a.name, b.name));
}

const UNSAFE_IN_FILE_NAMES = /[/\\:*?"<>|\p{Cc}]/gu;
const MAX_NAME_BYTES = 200;

function fileName(prefix: string, name: string | undefined, used: Set<string>): string {
  const base = name === undefined ? prefix : `${prefix}-${safeName(name)}`;
  let file = `${base}.yml`;
  for (let n = 2; used.has(file.toLowerCase()); n++) file = `${base}-${n}.yml`;
  used.add(file.toLowerCase());
  return file;
}

/** File-system-safe, at most MAX_NAME_BYTES of UTF-8, and no trailing dot or space (Windows drops them). */
function safeName(name: string): string {
  const encoder = new TextEncoder();
  let out = '';
  for (const char of name.replace(UNSAFE_IN_FILE_NAMES, '_')) {
    if (encoder.encode(out + char).length > MAX_NAME_BYTES) break;
    out += char;
  }
  return out.replace(/[. ]+$/, (tail) => '_'.repeat(tail.length));
}
