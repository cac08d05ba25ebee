/**
 * The worked example of docs/flows.md: a periodic aggregation of orders per user,
 * VerifyOrder -> SumUserOrders -> SaveUserTotals (Redis) -> ReportUserTotals, and LoadUserTotals to read the
 * totals back. The doc quotes this file and examples/orders/orders.yml; packages/flow/test/orders-example.test.ts
 * runs them against a real Redis, `npm run example:orders` runs them from the command line, and `npm run dev` schedules them in the dev stack.
 */
import { z } from 'zod';
import { defineFunction, redisConnectorType } from '@kisjobs/flow';

export const Order = z.object({
  order_id: z.string(),
  user_id: z.string(),
  amount_cents: z.number().int(),
  status: z.enum(['paid', 'pending', 'refunded']),
});
export type Order = z.infer<typeof Order>;

export const UserTotal = z.object({
  user_id: z.string(),
  total_cents: z.number().int(),
  orders: z.number().int(),
});
export type UserTotal = z.infer<typeof UserTotal>;

/** Verify: keep paid orders of at least `min_cents`. */
export const verifyOrder = defineFunction({
  name: 'VerifyOrder',
  input: Order,
  handler: (ctx) => {
    const minCents = Number(ctx.param('min_cents', '1'));
    for (const order of ctx.rows) {
      if (order.status === 'paid' && order.amount_cents >= minCents) ctx.commit(order);
    }
  },
});

/** Calculate: one row per user with the sum and the count of their orders. */
export const sumUserOrders = defineFunction({
  name: 'SumUserOrders',
  input: Order,
  handler: (ctx) => {
    const totals = new Map<string, UserTotal>();
    for (const order of ctx.rows) {
      const total = totals.get(order.user_id) ?? { user_id: order.user_id, total_cents: 0, orders: 0 };
      total.total_cents += order.amount_cents;
      total.orders += 1;
      totals.set(order.user_id, total);
    }
    ctx.commitMany(totals.values());
  },
});

/** Save: add this batch to each user's running totals, `HINCRBY` under the connector's key prefix. */
export const saveUserTotals = defineFunction({
  name: 'SaveUserTotals',
  input: UserTotal,
  connector: redisConnectorType,
  handler: async (ctx) => {
    await ctx.connector.hincrbyMany(
      ctx.rows.flatMap((t) => [
        { key: ['user', t.user_id], field: 'total_cents', by: t.total_cents },
        { key: ['user', t.user_id], field: 'orders', by: t.orders },
      ]),
    );
    ctx.commitMany(ctx.rows);
  },
});

/** Expand: one summary row for the run (a sink would publish it; here it is the run's output). */
export const reportUserTotals = defineFunction({
  name: 'ReportUserTotals',
  input: UserTotal,
  handler: (ctx) => {
    const totalCents = ctx.rows.reduce((sum, t) => sum + t.total_cents, 0);
    ctx.logger.info('orders aggregated', { users: ctx.rows.length, totalCents });
    ctx.commit({ users: ctx.rows.length, total_cents: totalCents });
  },
});

/** Load: the running totals of the requested users. */
export const loadUserTotals = defineFunction({
  name: 'LoadUserTotals',
  input: z.object({ user_id: z.string() }),
  connector: redisConnectorType,
  handler: async (ctx) => {
    const hashes = await ctx.connector.hgetallMany(ctx.rows.map((r) => ['user', r.user_id]));
    ctx.rows.forEach((row, i) => {
      const hash = hashes[i] ?? {};
      ctx.commit({
        user_id: row.user_id,
        total_cents: Number(hash.total_cents ?? 0),
        orders: Number(hash.orders ?? 0),
      });
    });
  },
});

/**
 * Load (the dev stack's scheduled source): the orders of the minute before the fire time, as an ODS read
 * would return them. They are generated from the fire time, so a retried run sees the same orders.
 */
export const loadMinuteOrders = defineFunction({
  name: 'LoadMinuteOrders',
  input: z.looseObject({ scheduledAt: z.string() }),
  handler: (ctx) => {
    const fire = Date.parse(ctx.rows[0]?.scheduledAt ?? '') || Date.now();
    const minute = Math.floor(fire / 60_000);
    const count = Number(ctx.param('orders_per_minute', '40'));
    const users = ['alice', 'bob', 'carol', 'dave'];
    const statuses: Order['status'][] = ['paid', 'paid', 'paid', 'pending', 'refunded'];
    for (let i = 0; i < count; i++) {
      const seed = (minute * 7_919 + i * 104_729) % 1_000_003;
      ctx.commit({
        order_id: `o-${minute}-${i}`,
        user_id: users[seed % users.length] ?? 'alice',
        amount_cents: 100 + (seed % 5_000),
        status: statuses[seed % statuses.length] ?? 'paid',
      });
    }
  },
});

/** Load (the dev stack's manual job): the running totals of the users named in the `users` param. */
export const loadRequestedTotals = defineFunction({
  name: 'LoadRequestedTotals',
  connector: redisConnectorType,
  handler: async (ctx) => {
    const users = ctx
      .param('users', 'alice,bob,carol,dave')
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== '');
    const hashes = await ctx.connector.hgetallMany(users.map((user) => ['user', user]));
    users.forEach((user_id, i) => {
      const hash = hashes[i] ?? {};
      const row = { user_id, total_cents: Number(hash.total_cents ?? 0), orders: Number(hash.orders ?? 0) };
      ctx.logger.info('user totals', row);
      ctx.commit(row);
    });
  },
});

/** Calculate (the dev stack's failing job): a payment provider that is always down, to show retries and alerts. */
export const chargeCards = defineFunction({
  name: 'ChargeCards',
  handler: (ctx) => {
    ctx.logger.warn('payment provider unreachable', { provider: ctx.param('provider', 'example-pay') });
    throw new Error('payment provider example-pay is unreachable (this job fails on purpose)');
  },
});

export const orderFunctions = [verifyOrder, sumUserOrders, saveUserTotals, reportUserTotals, loadUserTotals];

/** The executor's functions module contract (packages/executor functions-module.ts). */
export const functions = [...orderFunctions, loadMinuteOrders, loadRequestedTotals, chargeCards];
export const connectorTypes = { redis: redisConnectorType.factory };
