/**
 * Runs the orders example from the command line (`npm run example:orders`): generates a
 * batch of orders, aggregates them per user into Redis (AggregateOrders), then reads the running totals back
 * (ReadUserTotals). Redis: REDIS_URL, default redis://127.0.0.1:6379.
 */
import { readFile } from 'node:fs/promises';
import { FlowRegistry, formatIssue, parseConfigSources, redisConnectorType } from '@kisjobs/flow';
import { orderFunctions, type Order } from './functions.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const users = ['alice', 'bob', 'carol', 'dave'];
const statuses: Order['status'][] = ['paid', 'paid', 'paid', 'pending', 'refunded'];

function orderBatch(size: number): Order[] {
  return Array.from({ length: size }, (_, i) => ({
    order_id: `o-${Date.now()}-${i}`,
    user_id: users[i % users.length] ?? 'alice',
    amount_cents: 100 + ((i * 7919) % 5_000),
    status: statuses[i % statuses.length] ?? 'paid',
  }));
}

async function main(): Promise<number> {
  const text = await readFile(new URL('./orders.yml', import.meta.url), 'utf8');
  const loaded = parseConfigSources([{ file: 'examples/orders/orders.yml', text }]);
  if (!loaded.ok) {
    for (const issue of loaded.issues) console.error(formatIssue(issue));
    return 1;
  }
  const store = loaded.config.conns.OrderStore;
  if (store === undefined) throw new Error('orders.yml has no OrderStore connector');
  const registry = new FlowRegistry({
    logger: {
      debug: () => undefined,
      info: (msg, fields) => console.log(`  log: ${msg} ${JSON.stringify(fields ?? {})}`),
      warn: (msg, fields) => console.warn(`  warn: ${msg} ${JSON.stringify(fields ?? {})}`),
      error: (msg, fields) => console.error(`  error: ${msg} ${JSON.stringify(fields ?? {})}`),
    },
  });
  registry.registerConnectorType(redisConnectorType);
  for (const fn of orderFunctions) registry.registerFunction(fn);
  registry.loadConfig({ ...loaded.config, conns: { OrderStore: { ...store, addrs: redisUrl } } });
  try {
    const orders = orderBatch(50);
    console.log(`AggregateOrders over ${orders.length} orders (Redis ${redisUrl})`);
    const aggregated = await registry.run('AggregateOrders', { rows: orders });
    for (const f of aggregated.functions) {
      console.log(
        `  ${f.step} ${f.funcName.padEnd(17)} ${f.mode.padEnd(9)} rows ${f.rowsIn} -> ${f.rowsOut}  ${f.durationMs.toFixed(2)} ms`,
      );
    }
    if (!aggregated.ok) {
      console.error(`run failed: ${aggregated.error.code}: ${aggregated.error.message}`);
      if (aggregated.error.code === 'CONNECTOR_INIT_FAILED') {
        console.error('Start Redis (e.g. `redis-server --daemonize yes`) or set REDIS_URL.');
      }
      return 1;
    }
    console.log(`  output: ${JSON.stringify(aggregated.output)}`);
    const totals = await registry.run('ReadUserTotals', { rows: users.map((user_id) => ({ user_id })) });
    if (!totals.ok) {
      console.error(`run failed: ${totals.error.code}: ${totals.error.message}`);
      return 1;
    }
    console.log('ReadUserTotals (running totals across every run of this example):');
    for (const row of totals.output) console.log(`  ${JSON.stringify(row)}`);
    return 0;
  } finally {
    await registry.close();
  }
}

process.exitCode = await main();
