import { describe, expect, it } from 'vitest';
import { compileSourceMust, findMissingSourceField } from '../src/engine/rows.js';

class Order {
  readonly order_id = 1;
  get user_id(): number {
    return 2;
  }
}

const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { order_id: 1, user_id: 2 });
const inherits = Object.assign(Object.create({ user_id: 2 }) as Record<string, unknown>, { order_id: 1 });
const ownProtoKey = JSON.parse('{"__proto__": {"user_id": 2}, "order_id": 1, "user_id": 3}') as unknown;

const ROWS: readonly [string, unknown][] = [
  ['plain, complete', { order_id: 1, user_id: 2 }],
  ['plain, null values count', { order_id: null, user_id: 0 }],
  ['plain, missing user_id', { order_id: 1 }],
  ['plain, undefined user_id', { order_id: 1, user_id: undefined }],
  ['null prototype, complete', nullProto],
  ['field only on the prototype', inherits],
  ['own __proto__ key (JSON.parse)', ownProtoKey],
  ['class instance with a getter', new Order()],
  ['array', [1, 2]],
  ['null', null],
  ['string', 'order'],
  ['number', 3],
  ['undefined', undefined],
];

const MUSTS: readonly (readonly string[])[] = [
  [],
  ['order_id'],
  ['order_id', 'user_id'],
  ['user_id', 'order_id', 'order_id'],
  ['toString'],
  ['constructor', 'order_id'],
  ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
];

describe('compiled source.must check', () => {
  const cases = [true, false].flatMap((generate) =>
    MUSTS.map(
      (m) =>
        [m.join(',') || '(none)', generate ? 'generated scan' : 'no code generation', m, generate] as const,
    ),
  );
  it.each(cases)(
    'agrees with the exact rule for must = %s (%s), on every kind of row',
    (_label, _mode, must, generate) => {
      const check = compileSourceMust(must, { generate });
      for (const [name, row] of ROWS) {
        const rows = [{ order_id: 1, user_id: 2, a: 1, b: 1, c: 1, d: 1, e: 1, f: 1, g: 1 }, row];
        expect({ name, verdict: check(rows) }).toEqual({ name, verdict: findMissingSourceField(rows, must) });
      }
    },
  );

  it('the exact rule: own, defined properties of a non-array object', () => {
    const must = ['order_id', 'user_id'];
    const verdicts = ROWS.map(([name, row]) => [name, findMissingSourceField([row], must)?.field ?? 'ok']);
    expect(verdicts).toEqual([
      ['plain, complete', 'ok'],
      ['plain, null values count', 'ok'],
      ['plain, missing user_id', 'user_id'],
      ['plain, undefined user_id', 'user_id'],
      ['null prototype, complete', 'ok'],
      ['field only on the prototype', 'user_id'],
      ['own __proto__ key (JSON.parse)', 'ok'],
      ['class instance with a getter', 'user_id'],
      ['array', 'order_id'],
      ['null', 'order_id'],
      ['string', 'order_id'],
      ['number', 'order_id'],
      ['undefined', 'order_id'],
    ]);
  });

  it('checks many fields (more than one closure group) and reports the first missing one', () => {
    const must = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'];
    const full = Object.fromEntries(must.map((k) => [k, 1]));
    const check = compileSourceMust(must);
    expect(check([full, full])).toBeUndefined();
    const { h: _dropped, ...withoutH } = full;
    expect(check([full, withoutH])).toEqual({ rowIndex: 1, field: 'h', notObject: false });
  });
});
