/**
 * Job alerts: when a run ends failed, timed out or lost, no retry follows it, and its job's `alerts.on` names that ending, a
 * delivery row is written per target (`alert_deliveries`: the webhook URL, and each address of
 * `alerts.email.to`; unique per run, channel and target, so a finalization reported twice alerts once). A
 * poller sends due deliveries: it claims them with `FOR UPDATE SKIP LOCKED` (replicas split the work) and a
 * short lease, posts the signed webhook or sends the e-mail, and on a retryable failure tries again after
 * `baseDelayMs · 2^(attempt-1)` until `maxAttempts`; then the row ends `failed`. Everything is in Postgres, so
 * a delivery survives a scheduler restart.
 *
 * E-mail needs SMTP settings (`smtp`); without them an e-mail delivery is recorded `failed` at once, its
 * `last_error` naming the missing settings, and nothing is sent (the job still saves: see docs/http-api.md).
 */
import type { PrismaClient } from '@kisjobs/db';
import { newId, type AlertEvent } from '@kisjobs/protocol';
import { errorMessage, type Clock, type Logger } from '../registry/ports.js';
import { storedAlerts } from '../service/job-dto.js';
import { emailSubject, emailText, webhookBody, type AlertRun } from './alert-payload.js';
import { createSmtpSender, type SendEmail } from './email.js';
import { DELIVERY_HEADER, EVENT_HEADER } from './signature.js';
import { describeSmtpUrl, fromDomain, type SmtpSettings } from './smtp-settings.js';
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
  /** Per request or message (default 10 s). */
  readonly timeoutMs?: number;
  /** The sender (tests may count calls); default `sendWebhook`. */
  readonly send?: (request: WebhookRequest) => Promise<SendResult>;
  /** The SMTP server for e-mail alerts; unset: e-mail alerts are recorded failed, not sent. */
  readonly smtp?: SmtpSettings;
  /** The e-mail sender (tests); default nodemailer over `smtp.url`. */
  readonly sendEmail?: SendEmail;
}

export interface AlertNotifier {
  /** Whether e-mail alerts can be sent (SMTP is configured). */
  readonly emailEnabled: boolean;
  /** Records the deliveries the given runs call for (runs that did not fail are ignored). */
  enqueue(runIds: readonly string[]): Promise<number>;
  /** Sends what is due now; resolves with how many were tried. */
  deliverDue(): Promise<number>;
  start(): void;
  close(): Promise<void>;
}

/** `last_error` of an e-mail delivery when the scheduler has no SMTP settings. */
export const EMAIL_OFF_ERROR =
  'e-mail alerts are off: the scheduler has no SMTP settings (set KISJOBS_SMTP_URL and KISJOBS_SMTP_FROM)';
const STALE_ERROR = 'the job no longer sends this alert';

const ALERTING: ReadonlySet<string> = new Set<AlertEvent>(['failed', 'timed_out', 'lost']);
const CLAIM_LEASE_MS = 60_000;
const BATCH = 20;

type Channel = 'webhook' | 'email';

interface Claimed {
  readonly id: string;
  readonly run_id: string;
  readonly channel: Channel;
  readonly target: string;
  readonly attempts: number;
}

export function createAlertNotifier(options: AlertNotifierOptions): AlertNotifier {
  const { prisma, clock, logger } = options;
  const pollMs = options.pollMs ?? 1_000;
  const maxAttempts = options.maxAttempts ?? 6;
  const baseDelayMs = options.baseDelayMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const send = options.send ?? sendWebhook;
  const smtp = options.smtp;
  const smtpSender =
    smtp !== undefined && options.sendEmail === undefined ? createSmtpSender(smtp.url) : undefined;
  const sendEmail = options.sendEmail ?? smtpSender?.send;
  const emailEnabled = smtp !== undefined && sendEmail !== undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let closed = false;

  const enqueue = async (runIds: readonly string[]): Promise<number> => {
    if (runIds.length === 0) return 0;
    const ended = await prisma.run.findMany({
      where: { id: { in: [...runIds] }, status: { in: ['failed', 'timed_out', 'lost'] } },
      select: { id: true, status: true, job: { select: { alertSettings: true } } },
    });
    // An attempt that is retried does not alert: the job alerts once, when its last attempt ends. The retry
    // run is recorded before the alert (the dispatcher's follow-up runs first), so its row is there.
    const retried = new Set(
      (
        await prisma.run.findMany({
          where: { parentRunId: { in: ended.map((r) => r.id) }, triggerType: 'retry' },
          select: { parentRunId: true },
        })
      ).map((r) => r.parentRunId),
    );
    const runs = ended.filter((run) => !retried.has(run.id));
    const now = clock.now();
    const rows = runs.flatMap((run) => {
      const alerts = storedAlerts(run.job?.alertSettings);
      if (!ALERTING.has(run.status) || !alerts.on.includes(run.status as AlertEvent)) return [];
      const webhook =
        alerts.webhook === null
          ? []
          : [{ runId: run.id, channel: 'webhook' as const, target: alerts.webhook.url, nextAttemptAt: now }];
      const emails = [...new Set(alerts.email?.to ?? [])].map((address) =>
        emailEnabled
          ? { runId: run.id, channel: 'email' as const, target: address, nextAttemptAt: now }
          : {
              runId: run.id,
              channel: 'email' as const,
              target: address,
              status: 'failed' as const,
              nextAttemptAt: null,
              lastError: EMAIL_OFF_ERROR,
            },
      );
      return [...webhook, ...emails].map((row) => ({ id: newId('evt', now), ...row }));
    });
    if (rows.length === 0) return 0;
    const created = await prisma.alertDelivery.createMany({ data: rows, skipDuplicates: true });
    if (!emailEnabled && rows.some((r) => r.channel === 'email')) {
      logger.warn('e-mail alerts not sent: no SMTP settings', { runs: runs.length });
    }
    if (created.count > 0) kick();
    return created.count;
  };

  const loadRun = async (runId: string): Promise<(AlertRun & { alertSettings: unknown }) | null> => {
    const run = await prisma.run.findUnique({
      where: { id: runId },
      include: {
        job: { select: { id: true, name: true, sceneId: true, alertSettings: true } },
        scene: { select: { id: true, name: true } },
      },
    });
    if (run === null || run.job === null) return null;
    const { alertSettings, ...job } = run.job;
    return { ...run, job, alertSettings };
  };

  const deliverWebhook = async (claimed: Claimed, run: AlertRun, settings: unknown): Promise<SendResult> => {
    const webhook = storedAlerts(settings).webhook;
    if (webhook === null || webhook.url !== claimed.target)
      return { ok: false, retryable: false, error: STALE_ERROR };
    const at = clock.now();
    return send({
      url: webhook.url,
      secret: webhook.secret,
      deliveryId: claimed.id,
      event: `run.${run.status}`,
      body: webhookBody(run, claimed.id, at),
      at,
      timeoutMs,
    });
  };

  const deliverEmail = async (claimed: Claimed, run: AlertRun, settings: unknown): Promise<SendResult> => {
    if (!storedAlerts(settings).email?.to.includes(claimed.target))
      return { ok: false, retryable: false, error: STALE_ERROR };
    if (smtp === undefined || sendEmail === undefined)
      return { ok: false, retryable: false, error: EMAIL_OFF_ERROR };
    return sendEmail({
      from: smtp.from,
      to: claimed.target,
      subject: emailSubject(run),
      text: emailText(run),
      messageId: `<${claimed.id}@${fromDomain(smtp.from)}>`,
      headers: { [DELIVERY_HEADER]: claimed.id, [EVENT_HEADER]: `run.${run.status}` },
      timeoutMs,
    });
  };

  const deliverOne = async (claimed: Claimed): Promise<void> => {
    const run = await loadRun(claimed.run_id);
    const result: SendResult =
      run === null
        ? { ok: false, retryable: false, error: STALE_ERROR }
        : claimed.channel === 'email'
          ? await deliverEmail(claimed, run, run.alertSettings)
          : await deliverWebhook(claimed, run, run.alertSettings);
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
    if (giveUp && result.error !== STALE_ERROR)
      logger.warn('alert not delivered', {
        deliveryId: claimed.id,
        runId: claimed.run_id,
        channel: claimed.channel,
        error: result.error,
      });
  };

  const deliverDue = async (): Promise<number> => {
    const now = clock.now();
    const claimed = await prisma.$queryRaw<Claimed[]>`
      UPDATE alert_deliveries SET attempts = attempts + 1,
             next_attempt_at = ${new Date(now.getTime() + CLAIM_LEASE_MS)}, updated_at = ${now}
      WHERE id IN (
        SELECT id FROM alert_deliveries
        WHERE status = 'pending' AND next_attempt_at <= ${now}
        ORDER BY next_attempt_at LIMIT ${BATCH}
        FOR UPDATE SKIP LOCKED)
      RETURNING id, run_id, channel::text AS channel, target, attempts`;
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
    emailEnabled,
    enqueue,
    deliverDue,
    start() {
      if (timer !== undefined || closed) return;
      timer = setInterval(() => void tick(), pollMs);
      logger.info(
        smtp === undefined
          ? 'alerts started; e-mail alerts are off (no SMTP settings)'
          : `alerts started; e-mail alerts go through ${describeSmtpUrl(smtp.url)}`,
      );
    },
    async close() {
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      await running;
      smtpSender?.close();
    },
  };
}
