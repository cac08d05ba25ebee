/**
 * Webhook signatures: `X-KisJobs-Signature: sha256=<hex>` is the HMAC-SHA256, keyed with the job's webhook
 * secret, of `<X-KisJobs-Timestamp>.<raw body>`. A receiver recomputes it over the bytes it got, compares in
 * constant time, and refuses old timestamps (replays).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-kisjobs-signature';
export const TIMESTAMP_HEADER = 'x-kisjobs-timestamp';
export const DELIVERY_HEADER = 'x-kisjobs-delivery';
export const EVENT_HEADER = 'x-kisjobs-event';

export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** For receivers (and tests): whether `signature` is the one `secret` gives for this timestamp and body. */
export function verifyWebhook(secret: string, timestamp: string, body: string, signature: string): boolean {
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
