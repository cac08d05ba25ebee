/**
 * The dev stack's example scene "orders" (examples/orders): its configs, and three jobs:
 * - `minute-order-totals`: the periodic aggregation (LoadMinuteOrders → Verify → Calculate → Save through the
 *   Redis connector → Expand), cron every 10 s;
 * - `report-user-totals`: a manual job reading the running totals back;
 * - `charge-cards`: fails on purpose every minute, retried twice, alerting the dev stack's webhook inbox.
 * Run on every start and idempotent: the scene and jobs are created once (a user's later edits are kept), the
 * connector's address and the alert webhook follow this session's Redis and inbox.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { PrismaClient } from '@kisjobs/db';
import { createJob, createScene, putConfigDocuments, updateJob } from '@kisjobs/scheduler';

export const EXAMPLE_SCENE = 'orders';
export const PERIODIC_JOB = 'minute-order-totals';
export const MANUAL_JOB = 'report-user-totals';
export const FAILING_JOB = 'charge-cards';

export interface SeedInput {
  readonly prisma: PrismaClient;
  readonly examplesDir: string;
  readonly redisUrl: string;
  readonly group: string;
  readonly alertUrl: string;
  readonly alertSecret: string;
  readonly adminId: string | null;
}

export interface SeedResult {
  readonly sceneId: string;
  readonly created: readonly string[];
}

/** orders.yml with the OrderStore connector pointed at this session's Redis. */
async function configSources(
  examplesDir: string,
  redisUrl: string,
): Promise<{ file: string; text: string }[]> {
  const orders = await readFile(join(examplesDir, 'orders.yml'), 'utf8');
  const docs = parseAllDocuments(orders);
  const list = Array.isArray(docs) ? docs : [docs];
  const rewritten = list
    .map((doc) => {
      const value = doc.toJS() as Record<string, unknown>;
      if (value['kistype'] === 'conn' && value['cname'] === 'OrderStore') value['addrs'] = redisUrl;
      return stringify(value);
    })
    .join('---\n');
  return [
    { file: 'orders.yml', text: rewritten },
    { file: 'scheduled.yml', text: await readFile(join(examplesDir, 'scheduled.yml'), 'utf8') },
  ];
}

export async function seedExampleScene(input: SeedInput): Promise<SeedResult> {
  const { prisma } = input;
  const now = new Date();
  await putConfigDocuments(prisma, await configSources(input.examplesDir, input.redisUrl), {
    createdById: input.adminId,
  });
  const scene =
    (await prisma.scene.findUnique({ where: { name: EXAMPLE_SCENE } })) ??
    (await createScene(
      prisma,
      { name: EXAMPLE_SCENE, description: 'The example orders scene of the dev stack (examples/orders)' },
      now,
    ));
  const alerts = {
    on: ['failed', 'timed_out', 'lost'],
    webhook: { url: input.alertUrl, secret: input.alertSecret },
  };
  const jobs = [
    {
      name: PERIODIC_JOB,
      description:
        'Per-minute order totals per user: LoadMinuteOrders → VerifyOrder → SumUserOrders → SaveUserTotals → ReportUserTotals',
      flowName: 'MinuteOrderTotals',
      schedule: { type: 'cron', expr: '*/10 * * * * *', timezone: 'UTC' },
      timeoutMs: 30_000,
      retry: { attempts: 1, delayMs: 1_000 },
    },
    {
      name: MANUAL_JOB,
      description: 'Reads the running totals back (trigger it: kisjobs trigger report-user-totals --wait)',
      flowName: 'ReportRequestedTotals',
      schedule: { type: 'manual' },
      timeoutMs: 30_000,
      params: { users: 'alice,bob,carol,dave' },
    },
    {
      name: FAILING_JOB,
      description: 'Fails on purpose every minute: two retries 2 s apart, then a signed webhook alert',
      flowName: 'ChargeCards',
      schedule: { type: 'cron', expr: '0 * * * * *', timezone: 'UTC' },
      timeoutMs: 30_000,
      retry: { attempts: 2, backoff: 'fixed', delayMs: 2_000 },
      alerts,
    },
  ];
  const created: string[] = [];
  for (const job of jobs) {
    const existing = await prisma.job.findFirst({ where: { sceneId: scene.id, name: job.name } });
    if (existing === null) {
      await createJob(
        prisma,
        { ...job, sceneId: scene.id, group: input.group },
        { now, createdById: input.adminId },
      );
      created.push(job.name);
    } else if (job.name === FAILING_JOB) {
      const stored = JSON.stringify(existing.alertSettings);
      if (!stored.includes(input.alertUrl)) await updateJob(prisma, existing.id, { alerts });
    }
  }
  return { sceneId: scene.id, created };
}
