import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ErrorBody, Job, JobInput, JobPatch, JobTriggerInput, RedisPayloads } from '@kisjobs/protocol';

const srcDir = new URL('../src/', import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : [full];
  });
}

describe('package boundaries', () => {
  it('imports only zod and its own files, so the web console can bundle it (no node: built-ins)', () => {
    const specifiers = sourceFiles(srcDir).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1] ?? ''),
    );
    expect(specifiers.length).toBeGreaterThan(0);
    expect(
      specifiers.filter((spec) => spec !== 'zod' && !spec.startsWith('./') && !spec.startsWith('../')),
    ).toEqual([]);
    expect(specifiers.filter((spec) => spec.startsWith('.') && !spec.endsWith('.js'))).toEqual([]);
  });

  it('keeps files small', () => {
    for (const file of sourceFiles(srcDir)) {
      expect({ file, small: readFileSync(file, 'utf8').split('\n').length <= 250 }).toEqual({
        file,
        small: true,
      });
    }
  });

  it('every API schema and payload converts to JSON Schema (the OpenAPI document is generated from them)', () => {
    const schemas: Record<string, z.ZodType> = {
      ErrorBody,
      Job,
      JobInput,
      JobPatch,
      JobTriggerInput,
      ...RedisPayloads,
    };
    for (const [name, schema] of Object.entries(schemas)) {
      for (const io of ['input', 'output'] as const) {
        const json = z.toJSONSchema(schema, { io });
        expect({ name, io, type: json.type ?? 'union' }).toEqual({ name, io, type: expect.any(String) });
      }
    }
    const input = z.toJSONSchema(JobInput, { io: 'input' });
    expect(input.required?.sort()).toEqual(['flowName', 'group', 'name', 'sceneId', 'schedule']);
  });
});
