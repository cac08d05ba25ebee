/**
 * Parse KisFlow YAML sources into one validated KisConfig. Pure (no filesystem), so the HTTP API can load
 * uploaded text with it. Every problem is reported at once, and any problem means no config at all.
 */
import { declareDocument } from './documents.js';
import type { Entry } from './documents.js';
import { unwrapConfig } from './issues.js';
import type { ConfigIssue, ConfigLoadResult, LoadedConfig } from './issues.js';
import { link } from './link.js';
import { readYamlSource } from './yaml-source.js';

/** One YAML file: `file` is only used to name it in issues. It may hold several documents (`---`). */
export interface ConfigSource {
  readonly file: string;
  readonly text: string;
}

export function parseConfigSources(sources: readonly ConfigSource[]): ConfigLoadResult {
  const issues: ConfigIssue[] = [];
  const entries: Entry[] = [];
  for (const source of sources) {
    const read = readYamlSource(source.file, source.text);
    issues.push(...read.issues);
    for (const doc of read.documents) {
      const result = declareDocument(doc);
      issues.push(...result.issues);
      if (result.entry !== undefined) entries.push(result.entry);
    }
  }
  const linked = link(entries);
  if (!linked.ok) issues.push(...linked.issues);
  if (issues.length > 0 || !linked.ok) return { ok: false, issues: inSourceOrder(issues, sources) };
  return linked;
}

/** Like `parseConfigSources`, but throws a `ConfigLoadError` listing every issue. */
export function parseConfigSourcesOrThrow(sources: readonly ConfigSource[]): LoadedConfig {
  return unwrapConfig(parseConfigSources(sources));
}

/** Issues ordered by source, then document, then line; ties keep the order they were found in. */
function inSourceOrder(issues: readonly ConfigIssue[], sources: readonly ConfigSource[]): ConfigIssue[] {
  const rank = new Map<string, number>();
  for (const [i, source] of sources.entries()) if (!rank.has(source.file)) rank.set(source.file, i);
  const key = (issue: ConfigIssue): [number, number, number] => [
    rank.get(issue.file) ?? sources.length,
    issue.document,
    issue.line ?? Number.MAX_SAFE_INTEGER,
  ];
  return [...issues].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka[0] - kb[0] || ka[1] - kb[1] || ka[2] - kb[2];
  });
}
