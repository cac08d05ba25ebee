/**
 * Prisma's schema engine compiled to WebAssembly (`@prisma/schema-engine-wasm`, version pinned to the engine
 * hash of the installed `prisma`), driven through a driver adapter. It replaces the native schema engine the
 * Prisma CLI cannot download on machines without internet access (DESIGN §8).
 *
 * The wasm glue module keeps its instance in a module variable, so the instance is created once per process
 * and shared: that is the one process-wide value in this package, and it holds no connection.
 */
import { readFile } from 'node:fs/promises';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import * as glue from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { SchemaEngine, SchemaFilter } from '@prisma/schema-engine-wasm/schema_engine_bg';

export type { SchemaEngine, MigrationList, DiffResult } from '@prisma/schema-engine-wasm/schema_engine_bg';

/** A Prisma schema file as the engine takes it. */
export interface SchemaFile {
  readonly path: string;
  readonly content: string;
}

/** One log line of the engine, e.g. `{ level: 'INFO', message: 'Applying `2025…_init`' }`. */
export interface EngineLogLine {
  readonly level: string;
  readonly message: string;
}

export type EngineLogger = (line: EngineLogLine) => void;

export const noSchemaFilter: SchemaFilter = { externalTables: [], externalEnums: [] };

/**
 * The part of the WebAssembly global this file uses. Node has it at runtime, but with `lib: ES2023` and
 * without the DOM lib TypeScript only knows the namespace of types, so the value is declared here.
 */
declare const WebAssembly: {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, Record<string, unknown>>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
};

let instantiated: Promise<void> | undefined;

function instantiate(): Promise<void> {
  instantiated ??= (async () => {
    const wasmUrl = new URL(
      './schema_engine_bg.wasm',
      import.meta.resolve('@prisma/schema-engine-wasm/schema_engine_bg'),
    );
    const bytes = await readFile(wasmUrl);
    const imports: Record<string, unknown> = { ...glue };
    // The engine races its advisory-lock wait against a 10 s `setTimeout` that it never clears; unref those
    // timers so that a finished migration does not keep the process alive for ten more seconds. They only
    // bound waits on other promises, never drive work, so unref'd they cannot cut an operation short.
    for (const key of Object.keys(imports)) {
      if (key.startsWith('__wbg_setTimeout_')) {
        imports[key] = (callback: () => void, ms: number) => setTimeout(callback, ms >>> 0).unref();
      }
    }
    const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': imports });
    glue.__wbg_set_wasm(instance.exports);
    const start = instance.exports['__wbindgen_start'];
    if (typeof start === 'function') start();
  })();
  return instantiated;
}

function parseLogLine(raw: unknown): EngineLogLine {
  if (typeof raw !== 'string') return { level: 'INFO', message: String(raw) };
  try {
    const parsed = JSON.parse(raw) as { level?: unknown; fields?: { message?: unknown } };
    return {
      level: typeof parsed.level === 'string' ? parsed.level : 'INFO',
      message: typeof parsed.fields?.message === 'string' ? parsed.fields.message : raw.trim(),
    };
  } catch {
    return { level: 'INFO', message: raw.trim() };
  }
}

/**
 * Runs `fn` with a schema engine connected through `adapterFactory`, then frees the engine. The caller owns
 * the connections behind the factory (pass it an external `pg.Pool` or a PGlite instance and close those).
 */
export async function withSchemaEngine<T>(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  schema: SchemaFile | undefined,
  fn: (engine: SchemaEngine) => Promise<T>,
  onLog?: EngineLogger,
): Promise<T> {
  await instantiate();
  const engine = await glue.SchemaEngine.new(
    { datamodels: schema === undefined ? undefined : [[schema.path, schema.content]] },
    (raw: unknown) => onLog?.(parseLogLine(raw)),
    bindMigrationAwareSqlAdapterFactory(adapterFactory),
  );
  try {
    return await fn(engine);
  } finally {
    engine.free();
  }
}

/** The engine's version: the prisma-engines commit it was built from. */
export async function schemaEngineVersion(): Promise<string> {
  await instantiate();
  return glue.version();
}
