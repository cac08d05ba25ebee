/**
 * The worked example (examples/orders, quoted by docs/flows.md), end to end: its YAML loaded with the
 * config loader, its functions, and a real Redis (a Save flow writes per-user totals, a Load flow reads them
 * back). The doc's YAML block must be the example file, so the doc cannot drift from what is tested.
 */
import { readFile } from 'node:fs/promises';
import { useTestRedis, type TestRedis } from '@kisjobs/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FlowRegistry,
  formatIssue,
  parseConfigSources,
  redisConnectorType,
  type FlowLogger,
  type FlowRunResult,
  type FlowRunSuccess,
  type KisConfig,
} from '@kisjobs/flow';
import {
  orderFunctions,
  loadUserTotals,
  reportUserTotals,
  saveUserTotals,
  sumUserOrders,
  verifyOrder,
  type Order,
} from '../../examples/orders/functions.js';

const DOC = new URL('../../docs/flows.md', import.meta.url);
const EXAMPLE_YAML = new URL('../../examples/orders/orders.yml', import.meta.url);

function memoryLogger(): {
  lines: { level: string; msg: string; fields?: Record<string, unknown> }[];
  logger: FlowLogger;
} {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (msg: string, fields?: Readonly<Record<string, unknown>>) => {
    lines.push({ level, msg, fields: fields === undefined ? undefined : { ...fields } });
  };
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

function expectSuccess(result: FlowRunResult): FlowRunSuccess {
  if (!result.ok)
    throw new Error(`expected the run to succeed: ${result.error.code} ${result.error.message}`);
  return result;
}

/** The example's YAML, pointed at the test Redis and a key prefix of this test. */
async function docConfig(redis: TestRedis): Promise<KisConfig> {
  const text = await readFile(EXAMPLE_YAML, 'utf8');
  const loaded = parseConfigSources([{ file: 'orders.yml', text }]);
  if (!loaded.ok) throw new Error(loaded.issues.map(formatIssue).join('\n'));
  const store = loaded.config.conns.OrderStore;
  if (store === undefined) throw new Error('the example has no OrderStore connector');
  return {
    ...loaded.config,
    conns: { OrderStore: { ...store, addrs: redis.url, key: `{${redis.prefix}}:orders` } },
  };
}

let redis: TestRedis;
beforeEach(async () => {
  redis = await useTestRedis('flow-example');
});
afterEach(async () => {
  await redis.close();
});

const order = (
  order_id: string,
  user_id: string,
  amount_cents: number,
  status: Order['status'] = 'paid',
) => ({
  order_id,
  user_id,
  amount_cents,
  status,
});

describe('the orders example (docs/flows.md worked example)', () => {
  it('is quoted verbatim by the doc', async () => {
    const markdown = await readFile(DOC, 'utf8');
    const block = /```yaml\n([\s\S]*?)```/.exec(markdown)?.[1];
    expect(block).toBe(await readFile(EXAMPLE_YAML, 'utf8'));
  });

  it('aggregates order totals per user into Redis and reads them back', async () => {
    const config = await docConfig(redis);
    expect(config.funcs.SaveUserTotals).toMatchObject({ mode: 'Save', retryTimes: 2, retryDelayMs: 200 });
    const { logger, lines } = memoryLogger();
    const registry = new FlowRegistry({ logger });
    registry.registerConnectorType(redisConnectorType);
    registry
      .registerFunction(verifyOrder)
      .registerFunction(sumUserOrders)
      .registerFunction(saveUserTotals)
      .registerFunction(reportUserTotals)
      .registerFunction(loadUserTotals);
    registry.loadConfig(config);

    const first = expectSuccess(
      await registry.run('AggregateOrders', {
        rows: [
          order('o1', 'alice', 1250),
          order('o2', 'bob', 500),
          order('o3', 'alice', 750),
          order('o4', 'bob', 9999, 'refunded'),
          order('o5', 'carol', 99), // under the flow's min_cents of 100
        ],
      }),
    );
    expect(first.output).toEqual([{ users: 2, total_cents: 2500 }]);
    expect(first.functions.map((f) => [f.funcName, f.mode, f.rowsIn, f.rowsOut])).toEqual([
      ['VerifyOrder', 'Verify', 5, 3],
      ['SumUserOrders', 'Calculate', 3, 2],
      ['SaveUserTotals', 'Save', 2, 2],
      ['ReportUserTotals', 'Expand', 2, 1],
    ]);
    expect(lines.some((l) => l.msg === 'orders aggregated' && l.fields?.func === 'ReportUserTotals')).toBe(
      true,
    );

    // A second batch adds to the running totals; a batch of nothing paid writes nothing.
    expectSuccess(await registry.run('AggregateOrders', { rows: [order('o6', 'alice', 100)] }));
    const nothingPaid = expectSuccess(
      await registry.run('AggregateOrders', { rows: [order('o7', 'bob', 700, 'pending')] }),
    );
    expect(nothingPaid.endedBy).toBe('no_rows');

    const totals = expectSuccess(
      await registry.run('ReadUserTotals', {
        rows: [{ user_id: 'alice' }, { user_id: 'bob' }, { user_id: 'dave' }],
      }),
    );
    expect(totals.output).toEqual([
      { user_id: 'alice', total_cents: 2100, orders: 3 },
      { user_id: 'bob', total_cents: 500, orders: 1 },
      { user_id: 'dave', total_cents: 0, orders: 0 },
    ]);
    // Straight from Redis: the hashes sit under the connector's key prefix.
    expect(await redis.client.hgetall(`{${redis.prefix}}:orders:user:alice`)).toEqual({
      total_cents: '2100',
      orders: '3',
    });
    await registry.close();
  });

  it('a run-level param overrides the flow’s min_cents', async () => {
    const registry = new FlowRegistry();
    registry.registerConnectorType(redisConnectorType);
    for (const def of orderFunctions) registry.registerFunction(def);
    registry.loadConfig(await docConfig(redis));
    const result = expectSuccess(
      await registry.run('AggregateOrders', {
        rows: [order('o1', 'alice', 50), order('o2', 'bob', 150)],
        params: { min_cents: '10' },
      }),
    );
    expect(result.output).toEqual([{ users: 2, total_cents: 200 }]);
    await registry.close();
  });
});
