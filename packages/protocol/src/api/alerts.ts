/**
 * A job's alert settings (stored in `jobs.alert_settings`): which run outcomes alert, and where the alert
 * goes: a webhook signed with HMAC-SHA256 over the body (header `X-KisJobs-Signature: sha256=<hex>`),
 * retried with backoff; and/or an email over SMTP.
 */
import { z } from 'zod';

export const ALERT_EVENTS = ['failed', 'timed_out', 'lost'] as const;
export const AlertEvent = z.enum(ALERT_EVENTS);
export type AlertEvent = z.infer<typeof AlertEvent>;

export const MIN_WEBHOOK_SECRET_LENGTH = 16;

export const WebhookAlert = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).max(2_048),
  /** The HMAC key; write-only (the API returns `secretSet: true` instead). */
  secret: z.string().min(MIN_WEBHOOK_SECRET_LENGTH).max(256),
});
export type WebhookAlert = z.infer<typeof WebhookAlert>;

export const EmailAlert = z.strictObject({
  to: z.array(z.email().max(320)).min(1).max(20),
});
export type EmailAlert = z.infer<typeof EmailAlert>;

export const JobAlerts = z.strictObject({
  on: z
    .array(AlertEvent)
    .max(ALERT_EVENTS.length)
    .refine((events) => new Set(events).size === events.length, { message: 'Duplicate alert event' })
    .default([...ALERT_EVENTS]),
  webhook: WebhookAlert.nullable().default(null),
  email: EmailAlert.nullable().default(null),
});
export type JobAlerts = z.infer<typeof JobAlerts>;

/** Alert settings as the API returns them: the webhook secret is never echoed. */
export const JobAlertsView = z.strictObject({
  on: z.array(AlertEvent),
  webhook: z.strictObject({ url: z.string(), secretSet: z.literal(true) }).nullable(),
  email: EmailAlert.nullable(),
});
export type JobAlertsView = z.infer<typeof JobAlertsView>;

export function alertsView(alerts: JobAlerts): JobAlertsView {
  return {
    on: alerts.on,
    webhook: alerts.webhook === null ? null : { url: alerts.webhook.url, secretSet: true },
    email: alerts.email,
  };
}
