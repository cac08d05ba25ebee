/**
 * Job alerts: when a run ends failed, timed out or lost and its job's `alerts.on` names that ending, a
 * delivery row is written (`alert_deliveries`, unique per run, channel and target, so a finalization reported
 * twice alerts once). A poller sends due deliveries: it claims them with `FOR UPDATE SKIP LOCKED` (replicas
 * split the work) and a short lease, posts the signed webhook, and on a retryable failure tries again after
 * `baseDelayMs · 2^(attempt-1)` until `maxAttempts`; then the row ends `failed`. Everything is in Postgres, so
 * a delivery survives a scheduler restart. E-mail is not sent yet (issue #5).
 */
import type { PrismaClient } from '@kisjobs/db';
import { newId, type AlertEvent } from '@kisjobs/protocol';
import { errorMessage, type Clock, type Logger } from '../registry/ports.js';
import { storedAlerts } from '../service/job-dto.js';
import { sendWebhook, type SendResult, type WebhookRequest } from './webhook.js';

export interface AlertNotifierOptions {
  readonly prisma: PrismaClient;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often due deliveries are looked for (default 1000 ms). */
  readonly pollMs?: number;
  /** Tries per delivery (default 6). */
  readonly maxAttempts?: number;
  /** The first retry's delay; each next one doubles (default 1000 ms). */
  readonly baseDelayMs?: number;
  /** Per request (default 10 s). */
  readonly timeoutMs?: number;
  /** The sender (tests may count calls); default `sendWebhook`. */
  readonly send?: (request: WebhookRequest) => Promise<SendResult>;
}

export interface AlertNotifier {
  /** Records the deliveries the given runs call for (runs that did not fail are ignored). */
  enqueue(runIds: readonly string[]): Promise<number>;
  /** Sends what is due now; resolves with how many were tried. */
  deliverDue(): Promise<number>;
  start(): void;
  close(): Promise<void>;
}

const ALERTING: ReadonlySet<string> = new Set<AlertEvent>(['failed', 'timed_out', 'lost']);
const CLAIM_LEASE_MS = 60_000;
const BATCH = 20;

export function createAlertNotifier(options: AlertNotifierOptions): AlertNotifier {
  const { prisma, clock, logger } = options;
  const pollMs = options.pollMs ?? 1_000;
  const maxAttempts = options.maxAttempts ?? 6;
  const baseDelayMs = options.baseDelayMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const send = options.send ?? sendWebhook;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let closed = false;

  const enqueue = async (runIds: readonly string[]): Promise<number> => {
    if (runIds.length === 0) return 0;
    const runs = await prisma.run.findMany({
      where: { id: { in: [...runIds] }, status: { in: ['failed', 'timed_out', 'lost'] } },
      select: { id: true, status: true, job: { select: { alertSettings: true } } },
    });
    const now = clock.now();
    const rows = runs.flatMap((run) => {
      const alerts = storedAlerts(run.job?.alertSettings);
      if (
        !ALERTING.has(run.status) ||
        !alerts.on.includes(run.status as AlertEvent) ||
        alerts.webhook === null
      )
        return [];
      return [
        {
          id: newId('evt', now),
          runId: run.id,
          channel: 'webhook' as const,
          target: alerts.webhook.url,
          nextAttemptAt: now,
        },
      ];
    });
    if (rows.length === 0) return 0;
    const created = await prisma.alertDelivery.createMany({ data: rows, skipDuplicates: true });
    if (created.count > 0) kick();
    return created.count;
  };

  const deliverOne = async (claimed: { id: string; run_id: string; target: string; attempts: number }) => {
    const run = await prisma.run.findUnique({
      where: { id: claimed.run_id },
      include: { job: { select: { id: true, name: true, sceneId: true, alertSettings: true } } },
    });
    const webhook = run?.job === null || run === null ? null : storedAlerts(run.job.alertSettings).webhook;
    if (run === null || run.job === null || webhook === null || webhook.url !== claimed.target) {
      await prisma.alertDelivery.update({
        where: { id: claimed.id },
        data: { status: 'failed', nextAttemptAt: null, lastError: 'the job no longer sends this alert' },
      });
      return;
    }
    const at = clock.now();
    const body = JSON.stringify({
      event: `run.${run.status}`,
      deliveryId: claimed.id,
      at: at.toISOString(),
      job: { id: run.job.id, name: run.job.name, sceneId: run.job.sceneId },
      run: {
        id: run.id,
        status: run.status,
        triggerType: run.triggerType,
        attempt: run.attempt,
        scheduledAt: run.scheduledAt.toISOString(),
        startedAt: run.startedAt?.toISOString() ?? null,
        finishedAt: run.finishedAt?.toISOString() ?? null,
        executorInstanceId: run.executorInstanceId,
        error: run.errorMessage === null ? null : { code: run.errorCode, message: run.errorMessage },
      },
    });
    const result = await send({
      url: webhook.url,
      secret: webhook.secret,
      deliveryId: claimed.id,
      event: `run.${run.status}`,
      body,
      at,
      timeoutMs,
    });
    if (result.ok) {
      await prisma.alertDelivery.update({
        where: { id: claimed.id },
        data: { status: 'delivered', nextAttemptAt: null, lastError: null },
      });
      return;
    }
    const giveUp = !result.retryable || claimed.attempts >= maxAttempts;
    const delay = baseDelayMs * 2 ** (claimed.attempts - 1);
    await prisma.alertDelivery.update({
      where: { id: claimed.id },
      data: giveUp
        ? { status: 'failed', nextAttemptAt: null, lastError: result.error }
        : { nextAttemptAt: new Date(clock.now().getTime() + delay), lastError: result.error },
    });
    if (giveUp)
      logger.warn('alert not delivered', { deliveryId: claimed.id, runId: run.id, error: result.error });
  };

  const deliverDue = async (): Promise<number> => {
    const now = clock.now();
    const claimed = await prisma.$queryRaw<
      { id: string; run_id: string; target: string; attempts: number }[]
    >`
      UPDATE alert_deliveries SET attempts = attempts + 1,
             next_attempt_at = ${new Date(now.getTime() + CLAIM_LEASE_MS)}, updated_at = ${now}
      WHERE id IN (
        SELECT id FROM alert_deliveries
        WHERE status = 'pending' AND next_attempt_at <= ${now}
        ORDER BY next_attempt_at LIMIT ${BATCH}
        FOR UPDATE SKIP LOCKED)
      RETURNING id, run_id, target, attempts`;
    await Promise.all(
      claimed.map((row) =>
        deliverOne(row).catch((error: unknown) =>
          logger.error('alert delivery failed', { deliveryId: row.id, error: errorMessage(error) }),
        ),
      ),
    );
    return claimed.length;
  };

  const tick = (): Promise<number> => {
    running ??= deliverDue()
      .catch((error: unknown) => {
        logger.warn('alert poll failed', { error: errorMessage(error) });
        return 0;
      })
      .finally(() => (running = undefined));
    return running;
  };

  function kick(): void {
    if (timer !== undefined && !closed) void tick();
  }

  return {
    enqueue,
    deliverDue,
    start() {
      if (timer !== undefined || closed) return;
      timer = setInterval(() => void tick(), pollMs);
    },
    async close() {
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      await running;
    },
  };
}
