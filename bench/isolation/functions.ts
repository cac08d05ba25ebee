/**
 * The functions module the isolation benchmark runs (in-process and in isolation threads): a small flow of
 * three trivial functions over ten rows, and a function stuck in a CPU loop for the stop measurement.
 */
import { defineFunction, type KisConfig } from '@kisjobs/flow';

export const ROWS_PER_RUN = 10;

export const functions = [
  defineFunction({
    name: 'Generate',
    handler: (ctx) => {
      for (let i = 0; i < ROWS_PER_RUN; i++) ctx.commit({ order_id: i, amount: (i % 7) + 1 });
    },
  }),
  defineFunction({
    name: 'Price',
    handler: (ctx) => {
      for (const row of ctx.rows as readonly { order_id: number; amount: number }[]) {
        ctx.commit({ ...row, tax: row.amount * 0.2 });
      }
    },
  }),
  defineFunction({
    name: 'Total',
    handler: (ctx) => {
      let total = 0;
      for (const row of ctx.rows as readonly { amount: number; tax: number }[]) total += row.amount + row.tax;
      ctx.commit({ total });
    },
  }),
  defineFunction({
    name: 'Spin',
    handler: () => {
      for (;;) {
        /* stuck */
      }
    },
  }),
];

const func = (name: string, mode: 'Load' | 'Calculate' | 'Save'): KisConfig['funcs'][string] => ({
  kind: 'func',
  name,
  mode,
  source: { name: 'bench', must: [] },
  retryTimes: 0,
  retryDelayMs: 0,
  defaultParams: {},
});

export const CONFIG: KisConfig = {
  funcs: {
    Generate: func('Generate', 'Load'),
    Price: func('Price', 'Calculate'),
    Total: func('Total', 'Save'),
    Spin: func('Spin', 'Calculate'),
  },
  flows: {
    Orders: {
      kind: 'flow',
      name: 'Orders',
      enabled: true,
      steps: ['Generate', 'Price', 'Total'].map((funcName) => ({ funcName, params: {} })),
    },
    Stuck: { kind: 'flow', name: 'Stuck', enabled: true, steps: [{ funcName: 'Spin', params: {} }] },
  },
  conns: {},
};
