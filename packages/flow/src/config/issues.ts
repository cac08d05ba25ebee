/**
 * What a config load reports: one `ConfigIssue` per problem, all of them at once, and no config when there is
 * any. `ConfigLoadError` carries the same list for callers that prefer exceptions.
 */
import type { KisConfig } from './model.js';

export const CONFIG_ISSUE_CODES = [
  'YAML_SYNTAX',
  'MISSING_KISTYPE',
  'UNKNOWN_KISTYPE',
  'MISSING_FIELD',
  'INVALID_TYPE',
  'INVALID_VALUE',
  'DUPLICATE_NAME',
  'UNKNOWN_FUNC_REF',
  'UNKNOWN_CONN_REF',
] as const;
export type ConfigIssueCode = (typeof CONFIG_ISSUE_CODES)[number];

export interface ConfigIssue {
  readonly code: ConfigIssueCode;
  /** The source's `file` (for a directory load: the path relative to the directory, with `/`). */
  readonly file: string;
  /** 0-based index of the YAML document in the file (`---` separates documents). */
  readonly document: number;
  /** Dotted path of the field as written, e.g. `option.retry_times` or `flows[2].fname`; '' = the document. */
  readonly field: string;
  readonly message: string;
  /** 1-based line of the field (or of its closest enclosing node), when known. */
  readonly line?: number;
}

/** A valid config. Disabled flows (`status: 0`) are in `config.flows` and also listed, by name, here. */
export interface LoadedConfig {
  readonly config: KisConfig;
  readonly disabledFlows: string[];
}

export type ConfigLoadResult =
  ({ readonly ok: true } & LoadedConfig) | { readonly ok: false; readonly issues: ConfigIssue[] };

/** `file#doc field: message`, the form used in `ConfigLoadError` messages. */
export function formatIssue(issue: ConfigIssue): string {
  const where = `${issue.file}#${issue.document}`;
  return issue.field === '' ? `${where}: ${issue.message}` : `${where} ${issue.field}: ${issue.message}`;
}

/** A load that found problems, for callers that prefer exceptions. Not retryable: the input must change. */
export class ConfigLoadError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly nonRetryable = true;
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    super([`KisFlow config is invalid (${count}):`, ...issues.map((i) => `  ${formatIssue(i)}`)].join('\n'));
    this.name = 'ConfigLoadError';
    this.issues = issues;
  }
}

/** The config of a successful load, or a `ConfigLoadError` listing every issue. */
export function unwrapConfig(result: ConfigLoadResult): LoadedConfig {
  if (!result.ok) throw new ConfigLoadError(result.issues);
  return { config: result.config, disabledFlows: result.disabledFlows };
}

const IDENTIFIER = /^[\p{L}_$][\p{L}\p{N}_$-]*$/u;

/** `['flows', 2, 'fname']` -> `flows[2].fname`; keys that are not identifier-like are quoted: `params["a.b"]`. */
export function formatField(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else {
      const name = String(key);
      if (IDENTIFIER.test(name)) out += out === '' ? name : `.${name}`;
      else out += `[${JSON.stringify(name)}]`;
    }
  }
  return out;
}
