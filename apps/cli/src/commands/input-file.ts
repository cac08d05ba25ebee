/**
 * Reading a YAML or JSON document a user hands the CLI (`-f job.yaml`, `-f -` for stdin). Errors name the file
 * and the line, and an empty or non-object document is refused before anything is sent.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { CliContext } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';

export async function readInputText(ctx: CliContext, file: string): Promise<{ name: string; text: string }> {
  if (file === '-') return { name: '(stdin)', text: await ctx.io.readStdin() };
  const path = resolve(ctx.cwd, file);
  try {
    return { name: file, text: await readFile(path, 'utf8') };
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error);
    throw new CliError('FILE_UNREADABLE', `${file}: ${reason}`, { exitCode: EXIT.usage });
  }
}

/** Every document of a YAML (or JSON, which is YAML) text, each a mapping. */
export function parseObjects(name: string, text: string): Record<string, unknown>[] {
  const documents = parseAllDocuments(text);
  const list = Array.isArray(documents) ? documents : [documents];
  const objects: Record<string, unknown>[] = [];
  for (const [index, doc] of list.entries()) {
    const error = doc.errors[0];
    if (error !== undefined) {
      const line = error.linePos?.[0]?.line;
      throw usageError(`${name}${line === undefined ? '' : `:${line}`}: ${error.message.split('\n')[0]}`);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw usageError(`${name}: document ${index + 1} must be a mapping of job fields`);
    }
    objects.push(value as Record<string, unknown>);
  }
  if (objects.length === 0) throw usageError(`${name}: no document in it`);
  return objects;
}
