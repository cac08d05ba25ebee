/**
 * The SMTP server e-mail alerts go through (`KISJOBS_SMTP_URL`, `KISJOBS_SMTP_FROM`): a `smtp://` URL
 * (STARTTLS when the server offers it) or `smtps://` (TLS from the first byte), with the credentials in the
 * URL's user info; and the sender, a bare address or `Name <address>`. The URL holds a password, so only
 * `describeSmtpUrl` is ever logged.
 */
import { z } from 'zod';

export const SmtpUrl = z
  .string()
  .max(2_048)
  .superRefine((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'Expected a smtp:// or smtps:// URL' });
      return;
    }
    if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
      ctx.addIssue({ code: 'custom', message: 'Expected a smtp:// or smtps:// URL' });
    } else if (url.hostname === '') {
      ctx.addIssue({ code: 'custom', message: 'The URL names no host' });
    }
  });

const Address = z.email().max(320);
const NAMED = /^\s*"?([^"<>\r\n]{0,100}?)"?\s*<([^<>\s]+)>\s*$/;

/** `alerts@example.com` or `KisJobs <alerts@example.com>`. */
export const MailFrom = z
  .string()
  .max(450)
  .superRefine((text, ctx) => {
    const address = NAMED.exec(text)?.[2] ?? text.trim();
    if (!Address.safeParse(address).success) {
      ctx.addIssue({ code: 'custom', message: 'Expected an e-mail address or "Name <address>"' });
    }
  });

export interface SmtpSettings {
  /** `smtp://user:pass@host:port` or `smtps://…`. */
  readonly url: string;
  /** The From of every alert. */
  readonly from: string;
}

/** The URL without its credentials, for logs and messages. */
export function describeSmtpUrl(text: string): string {
  try {
    const url = new URL(text);
    return `${url.protocol}//${url.host}`;
  } catch {
    return 'an invalid SMTP URL';
  }
}

/** The domain of the sender's address (Message-IDs are made in it). */
export function fromDomain(from: string): string {
  const address = NAMED.exec(from)?.[2] ?? from.trim();
  return address.slice(address.lastIndexOf('@') + 1) || 'kisjobs.invalid';
}
