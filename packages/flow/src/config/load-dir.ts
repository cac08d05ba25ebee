/**
 * Load a KisFlow config directory: every `*.yml` and `*.yaml` file below it, recursively, in path order.
 * File names are otherwise irrelevant. Hidden entries (a name starting with `.`) are skipped, which also
 * skips the `..data` folders of a Kubernetes ConfigMap mount; symbolic links are followed, once each.
 * Issues name files by their path relative to `dir`, with `/`. A missing or unreadable directory rejects.
 */
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { unwrapConfig } from './issues.js';
import type { ConfigLoadResult, LoadedConfig } from './issues.js';
import { parseConfigSources } from './load.js';
import type { ConfigSource } from './load.js';
import { compareNames } from './names.js';

const YAML_FILE = /\.ya?ml$/;

export async function loadConfigDir(dir: string): Promise<ConfigLoadResult> {
  return parseConfigSources(await readConfigDir(dir));
}

/** Like `loadConfigDir`, but rejects with a `ConfigLoadError` listing every issue. */
export async function loadConfigDirOrThrow(dir: string): Promise<LoadedConfig> {
  return unwrapConfig(await loadConfigDir(dir));
}

/** The YAML sources below `dir`, sorted by relative path. */
export async function readConfigDir(dir: string): Promise<ConfigSource[]> {
  const files: string[] = [];
  await walk(dir, new Set([await realpath(dir)]), files);
  const relativePaths = files.map((file) => relative(dir, file).split(sep).join('/')).sort(compareNames);
  const sources: ConfigSource[] = [];
  // One file at a time: config folders are small, and this never runs out of file descriptors.
  for (const file of relativePaths) sources.push({ file, text: await readFile(join(dir, file), 'utf8') });
  return sources;
}

async function walk(dir: string, seen: Set<string>, out: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    const kind = entry.isSymbolicLink()
      ? await linkTarget(path)
      : entry.isDirectory()
        ? 'dir'
        : entry.isFile()
          ? 'file'
          : 'other';
    if (kind === 'dir') {
      const real = await realpath(path);
      if (seen.has(real)) continue;
      seen.add(real);
      await walk(path, seen, out);
    } else if (kind === 'file' && YAML_FILE.test(entry.name)) {
      out.push(path);
    }
  }
}

/** What a symbolic link points to. A dangling link counts as a file, so reading it reports the path. */
async function linkTarget(path: string): Promise<'dir' | 'file' | 'other'> {
  try {
    const target = await stat(path);
    return target.isDirectory() ? 'dir' : target.isFile() ? 'file' : 'other';
  } catch {
    return 'file';
  }
}
