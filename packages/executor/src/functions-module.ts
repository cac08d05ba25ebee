/**
 * The functions module: the user's code an executor runs. Contract (ESM, .js or .ts):
 *
 *   export const functions = [defineFunction({ name: 'LoadOrders', handler: … }), …];   // required
 *   export const connectorTypes = { mysql: async (conf, { signal, logger }) => connector }; // optional
 *
 * or the same two as the default export: `export default { functions, connectorTypes }`.
 *
 * Every isolation thread imports the module once and builds its own FlowRegistry from it (so connectors
 * initialise once per thread and are reused across that thread's runs); the main thread imports it too, to
 * register the function names and connector types. Importing it must not connect or start anything.
 */
import { z } from 'zod';
import {
  FlowRegistry,
  type ConnectorFactory,
  type FlowRegistryOptions,
  type FunctionDefinition,
} from '@kisjobs/flow';
import { toValidationIssues } from '@kisjobs/protocol';
import { FunctionsModuleError } from './errors.js';

export interface FunctionsModule {
  readonly functions: readonly FunctionDefinition[];
  readonly connectorTypes: Readonly<Record<string, ConnectorFactory>>;
}

const isFunction = (value: unknown): boolean => typeof value === 'function';

const FunctionsModuleShape = z.object({
  functions: z
    .array(
      z.looseObject({
        name: z.string().min(1).max(256),
        handler: z.custom<FunctionDefinition['handler']>(isFunction, { message: 'Expected a function' }),
      }),
    )
    .min(1, { message: 'Expected at least one function (export const functions = [defineFunction(…)])' }),
  connectorTypes: z
    .record(
      z.string().min(1),
      z.custom<ConnectorFactory>(isFunction, { message: 'Expected a factory function' }),
    )
    .optional(),
});

/** Checks an imported module namespace. Throws FunctionsModuleError naming what is wrong. */
export function toFunctionsModule(url: string, namespace: unknown): FunctionsModule {
  const ns = (namespace ?? {}) as Record<string, unknown>;
  const candidate = 'functions' in ns ? ns : (ns['default'] ?? {});
  const parsed = FunctionsModuleShape.safeParse(candidate);
  if (!parsed.success) throw new FunctionsModuleError(url, toValidationIssues(parsed.error.issues));
  // The parsed copy only proves the shape: keep the module's own objects (schemas, closures, frozen defs).
  const source = candidate as {
    functions: FunctionDefinition[];
    connectorTypes?: Record<string, ConnectorFactory>;
  };
  const names = new Set<string>();
  for (const [i, def] of source.functions.entries()) {
    if (names.has(def.name)) {
      throw new FunctionsModuleError(url, [
        { path: `functions[${i}].name`, message: `"${def.name}" is exported twice` },
      ]);
    }
    names.add(def.name);
  }
  return { functions: [...source.functions], connectorTypes: { ...source.connectorTypes } };
}

export async function importFunctionsModule(url: string): Promise<FunctionsModule> {
  let namespace: unknown;
  try {
    namespace = await import(url);
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new FunctionsModuleError(url, [{ path: '', message: `cannot be imported: ${message}` }], cause);
  }
  return toFunctionsModule(url, namespace);
}

/** What the executor registers: sorted function names and connector types. */
export function describeFunctionsModule(module: FunctionsModule): {
  functions: string[];
  connectorTypes: string[];
} {
  return {
    functions: module.functions.map((f) => f.name).sort(),
    connectorTypes: Object.keys(module.connectorTypes).sort(),
  };
}

/** A FlowRegistry holding the module's functions and connector types (no config loaded yet). */
export function buildFlowRegistry(module: FunctionsModule, options: FlowRegistryOptions = {}): FlowRegistry {
  const registry = new FlowRegistry(options);
  for (const def of module.functions) registry.registerFunction(def);
  for (const [type, factory] of Object.entries(module.connectorTypes))
    registry.registerConnectorType(type, factory);
  return registry;
}
