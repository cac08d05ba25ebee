/** Input checks before a handler runs: `source.must` and typed `input` schemas. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FlowRegistry, defineFunction } from '../src/index.js';
import { flow, func, kisConfig, single } from './support/config-builders.js';

const pass = defineFunction({ name: 'pass', handler: (ctx) => ctx.commitMany(ctx.rows) });

describe('source.must', () => {
  const registryWith = (checkSourceMust?: boolean) => {
    const registry = new FlowRegistry();
    registry.registerFunction(
      defineFunction({ name: 'needs', checkSourceMust, handler: (ctx) => ctx.commitMany(ctx.rows) }),
    );
    registry.loadConfig(
      kisConfig({ funcs: [func('needs', { must: ['order_id', 'user_id'] })], flows: [flow('f', ['needs'])] }),
    );
    return registry;
  };

  it('passes rows that have every field', async () => {
    const result = await registryWith().run('f', {
      rows: [
        { order_id: 1, user_id: 2, extra: 3 },
        { order_id: 0, user_id: null },
      ],
    });
    expect(result.ok).toBe(true);
  });

  it('fails naming the function, the row index and the missing field; the handler does not run', async () => {
    const result = await registryWith().run('f', { rows: [{ order_id: 1, user_id: 2 }, { order_id: 3 }] });
    expect(result).toMatchObject({
      ok: false,
      status: 'failed',
      error: { code: 'SOURCE_MUST_MISSING', funcName: 'needs', step: 0, rowIndex: 1, field: 'user_id' },
    });
    if (result.ok) return;
    expect(result.error.message).toContain('needs');
    expect(result.error.message).toContain('row 1');
    expect(result.error.message).toContain('user_id');
    expect(result.functions[0]?.attempts).toBe(0);
  });

  it.each([
    ['null', null],
    ['an array', [1, 2]],
    ['a string', 'order'],
    ['a number', 7],
  ])('rejects a row that is %s', async (_what, row) => {
    const result = await registryWith().run('f', { rows: [{ order_id: 1, user_id: 1 }, row] });
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'SOURCE_MUST_MISSING', rowIndex: 1, field: 'order_id' },
    });
  });

  it('treats an undefined value and an inherited property as missing', async () => {
    const inherited = Object.create({ user_id: 1 }) as Record<string, unknown>;
    inherited.order_id = 1;
    const undefinedField = await registryWith().run('f', { rows: [{ order_id: 1, user_id: undefined }] });
    const protoField = await registryWith().run('f', { rows: [inherited] });
    expect(undefinedField).toMatchObject({
      ok: false,
      error: { code: 'SOURCE_MUST_MISSING', field: 'user_id' },
    });
    expect(protoField).toMatchObject({ ok: false, error: { code: 'SOURCE_MUST_MISSING', field: 'user_id' } });
  });

  it('a function can opt out with checkSourceMust: false', async () => {
    const result = await registryWith(false).run('f', { rows: [{}, 'anything'] });
    expect(result).toMatchObject({ ok: true, output: [{}, 'anything'] });
  });
});

describe('typed input', () => {
  const Order = z.object({ orderId: z.string(), amount: z.number().int().positive() });
  const typed = defineFunction({
    name: 'typed',
    input: Order,
    handler: (ctx) => {
      // ctx.rows is typed from the schema
      for (const row of ctx.rows) ctx.commit(row.amount * 2);
    },
  });

  it('validates every row and hands the handler typed rows', async () => {
    const result = await single(typed).run('f', {
      rows: [
        { orderId: 'a', amount: 2 },
        { orderId: 'b', amount: 5 },
      ],
    });
    expect(result).toMatchObject({ ok: true, output: [4, 10] });
  });

  it('fails with INPUT_INVALID naming the function, the row and the issue path', async () => {
    const result = await single(typed).run('f', {
      rows: [
        { orderId: 'a', amount: 2 },
        { orderId: 'b', amount: -1 },
      ],
    });
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'INPUT_INVALID', funcName: 'typed', rowIndex: 1, field: 'amount' },
    });
  });

  it('reports nested paths and passes parsed (transformed) rows', async () => {
    const nested = defineFunction({
      name: 'nested',
      input: z.object({ user: z.object({ id: z.coerce.number() }) }),
      handler: (ctx) => ctx.commitMany(ctx.rows.map((r) => r.user.id + 1)),
    });
    const ok = await single(nested).run('f', { rows: [{ user: { id: '41' } }] });
    expect(ok).toMatchObject({ ok: true, output: [42] });
    const bad = await single(nested).run('f', { rows: [{ user: {} }] });
    expect(bad).toMatchObject({ ok: false, error: { code: 'INPUT_INVALID', rowIndex: 0, field: 'user.id' } });
  });

  it('supports schemas with async refinements', async () => {
    const asyncCheck = defineFunction({
      name: 'async',
      input: z.number().refine(async (n) => n > 0, 'must be positive'),
      handler: (ctx) => ctx.commitMany(ctx.rows),
    });
    expect(await single(asyncCheck).run('f', { rows: [1, 2] })).toMatchObject({ ok: true, output: [1, 2] });
    expect(await single(asyncCheck).run('f', { rows: [1, -2] })).toMatchObject({
      ok: false,
      error: { code: 'INPUT_INVALID', rowIndex: 1 },
    });
  });
});

it('a plain pass-through keeps rows by reference', async () => {
  const rows = [{ a: 1 }];
  const result = await single(pass).run('f', { rows });
  expect(result.ok && result.output[0]).toBe(rows[0]);
  expect(result.ok && result.output).not.toBe(rows);
});
