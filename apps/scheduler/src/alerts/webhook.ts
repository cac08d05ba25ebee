/**
 * One webhook POST. A 2xx answer delivers it; a network error, a timeout, 429 or a 5xx may succeed later
 * (retryable); any other answer (a 4xx: the receiver refuses it) will not.
 */
import {
  DELIVERY_HEADER,
  EVENT_HEADER,
  signWebhook,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from './signature.js';

export type SendResult =
  | { readonly ok: true; readonly status: number }
  | { readonly ok: false; readonly retryable: boolean; readonly error: string };

export interface WebhookRequest {
  readonly url: string;
  readonly secret: string;
  readonly deliveryId: string;
  readonly event: string;
  readonly body: string;
  readonly at: Date;
  readonly timeoutMs: number;
}

export async function sendWebhook(request: WebhookRequest): Promise<SendResult> {
  const timestamp = String(Math.floor(request.at.getTime() / 1000));
  try {
    const response = await fetch(request.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'KisJobs-Alerts/1',
        [DELIVERY_HEADER]: request.deliveryId,
        [EVENT_HEADER]: request.event,
        [TIMESTAMP_HEADER]: timestamp,
        [SIGNATURE_HEADER]: signWebhook(request.secret, timestamp, request.body),
      },
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(request.timeoutMs),
    });
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status };
    const retryable = response.status === 429 || response.status >= 500;
    return { ok: false, retryable, error: `the receiver answered ${response.status}` };
  } catch (error) {
    return { ok: false, retryable: true, error: error instanceof Error ? error.message : String(error) };
  }
}
