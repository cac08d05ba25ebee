/**
 * One alert e-mail over SMTP (nodemailer, one connection per message). The server taking the message
 * delivers it; a transient refusal (a 4yz reply, and 503 "bad sequence"), a network error or a timeout may
 * succeed later (retryable); a permanent refusal (any other 5yz reply: unknown mailbox, relay denied, bad
 * credentials) or a setting the server cannot honour will not.
 */
import { createTransport } from 'nodemailer';
import type { SendResult } from './webhook.js';

export interface EmailRequest {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /** The same on every retry, so a receiver can drop a duplicate (`<id@domain>`). */
  readonly messageId: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

export type SendEmail = (request: EmailRequest) => Promise<SendResult>;

export interface SmtpSender {
  readonly send: SendEmail;
  close(): void;
}

/** Errors without an SMTP reply that the same message would meet again. */
const PERMANENT_CODES: ReadonlySet<string> = new Set([
  'ECONFIG',
  'EENVELOPE',
  'EMESSAGE',
  'ENOAUTH',
  'EREQUIRETLS',
  'EMAXRECIPIENTS',
]);

interface SmtpErrorFields {
  readonly code?: unknown;
  readonly responseCode?: unknown;
  readonly response?: unknown;
  readonly permanent?: unknown;
  readonly message?: unknown;
}

/** How a nodemailer error is retried, and its message for `last_error`. */
export function smtpFailure(error: unknown): Extract<SendResult, { ok: false }> {
  const fields: SmtpErrorFields = typeof error === 'object' && error !== null ? error : {};
  const message =
    typeof fields.response === 'string' && fields.response !== ''
      ? `the SMTP server answered: ${fields.response}`
      : typeof fields.message === 'string'
        ? fields.message
        : String(error);
  const reply = typeof fields.responseCode === 'number' ? fields.responseCode : undefined;
  if (reply !== undefined) {
    const permanent =
      typeof fields.permanent === 'boolean' ? fields.permanent : reply >= 500 && reply !== 503;
    return { ok: false, retryable: !permanent, error: message.slice(0, 1_000) };
  }
  const code = typeof fields.code === 'string' ? fields.code : '';
  return { ok: false, retryable: !PERMANENT_CODES.has(code), error: message.slice(0, 1_000) };
}

export function createSmtpSender(url: string): SmtpSender {
  const transport = createTransport({
    url,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return {
    async send(request) {
      try {
        const info = await transport.sendMail({
          from: request.from,
          to: request.to,
          subject: request.subject,
          text: request.text,
          messageId: request.messageId,
          headers: { ...request.headers },
          signal: AbortSignal.timeout(request.timeoutMs),
        });
        if (info.rejected.length > 0) {
          return {
            ok: false,
            retryable: false,
            error: `the SMTP server refused ${info.rejected.join(', ')}`,
          };
        }
        return { ok: true, status: 250 };
      } catch (error) {
        return smtpFailure(error);
      }
    },
    close: () => transport.close(),
  };
}
