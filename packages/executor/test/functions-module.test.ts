import { describe, expect, it } from 'vitest';
import { defineFunction } from '@kisjobs/flow';
import {
  FunctionsModuleError,
  describeFunctionsModule,
  importFunctionsModule,
  toFunctionsModule,
} from '../src/index.js';
import { FUNCTION_NAMES } from './fixtures/flows.js';
import { FUNCTIONS_MODULE } from './support/executors.js';

const fn = defineFunction({ name: 'A', handler: () => undefined });

describe('the functions module contract', () => {
  it('loads the named exports, and lists functions and connector types', async () => {
    const module = await importFunctionsModule(new URL(`file://${FUNCTIONS_MODULE}`).href);
    expect(describeFunctionsModule(module)).toEqual({
      functions: FUNCTION_NAMES,
      connectorTypes: ['memory'],
    });
  });

  it('accepts a default export { functions, connectorTypes }', () => {
    const module = toFunctionsModule('m.js', { default: { functions: [fn] } });
    expect(describeFunctionsModule(module)).toEqual({ functions: ['A'], connectorTypes: [] });
  });

  it.each([
    ['no functions export', {}, 'functions'],
    ['an empty list', { functions: [] }, 'functions'],
    ['a handler that is not a function', { functions: [{ name: 'A', handler: 1 }] }, 'functions[0].handler'],
    [
      'a connector factory that is not a function',
      { functions: [fn], connectorTypes: { sql: 'x' } },
      'connectorTypes.sql',
    ],
    ['a name exported twice', { functions: [fn, fn] }, 'functions[1].name'],
  ])('refuses %s, naming the field', (_name, namespace, path) => {
    let error: unknown;
    try {
      toFunctionsModule('m.js', namespace);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FunctionsModuleError);
    expect((error as FunctionsModuleError).issues[0]?.path).toBe(path);
    expect((error as FunctionsModuleError).message).toMatch(/^functions module m\.js: /);
  });

  it('reports a module that cannot be imported', async () => {
    await expect(importFunctionsModule('file:///nowhere/fns.js')).rejects.toThrow(/cannot be imported/);
  });
});
