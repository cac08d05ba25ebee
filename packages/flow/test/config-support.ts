/** Helpers for the config loader tests: fixture paths, temporary config folders, and result unwrapping. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, onTestFinished } from 'vitest';
import { formatIssue } from '../src/config/index.js';
import type { ConfigIssue, ConfigLoadResult, LoadedConfig } from '../src/config/index.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const KISFLOW_TEST_DIR = join(fixtures, 'kisflow-test', 'load_conf');
export const SEED_DIALECT_DIR = join(fixtures, 'seed-dialect');

/** A fresh temporary folder holding `files` (relative path -> text); removed after the test unless it failed. */
export async function configDir(files: Readonly<Record<string, string>>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kisflow-config-'));
  onTestFinished(async ({ task }) => {
    if (task.result?.state !== 'fail') await rm(dir, { recursive: true, force: true });
  });
  for (const [file, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), text);
  }
  return dir;
}

/** The loaded config; fails the test with every issue listed when the load failed. */
export function loaded(result: ConfigLoadResult): LoadedConfig {
  if (!result.ok) expect.fail(`expected the config to load:\n${result.issues.map(formatIssue).join('\n')}`);
  return { config: result.config, disabledFlows: result.disabledFlows };
}

/** The issues of a failed load; also checks that no config came back with them. */
export function issuesOf(result: ConfigLoadResult): ConfigIssue[] {
  if (result.ok) return expect.fail('expected the load to fail, but it returned a config');
  expect(result).not.toHaveProperty('config');
  expect(result.issues.length).toBeGreaterThan(0);
  return result.issues;
}

/** `[code, file, document, field]` of each issue: what most assertions compare. */
export function where(issues: readonly ConfigIssue[]): [string, string, number, string][] {
  return issues.map((i) => [i.code, i.file, i.document, i.field]);
}

/** `where`, without repeats: one YAML syntax error may be reported as several issues in its document. */
export function uniqueWhere(issues: readonly ConfigIssue[]): [string, string, number, string][] {
  const seen = new Set<string>();
  return where(issues).filter((w) => {
    const key = JSON.stringify(w);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
