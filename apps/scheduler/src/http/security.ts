/**
 * Response hardening applied to every answer, before routing:
 * - a request id: the caller's `X-Request-Id` when it is a short safe token, else a new UUID; echoed back;
 * - security headers: no MIME sniffing, no framing, no referrer, a deny-all CSP (pages set their own), no
 *   caching of API answers, HSTS only when the deployment says it is served over TLS;
 * - CORS, off by default: only origins on the allow-list get CORS headers, and their preflights a 204.
 *   Credentials are bearer headers, never cookies, so `Allow-Credentials` is never sent. `X-Request-Id`,
 *   `Retry-After` and `X-KisJobs-Warning` are exposed to the calling page.
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export interface SecurityOptions {
  /** Origins allowed to call the API from a browser, e.g. `https://console.example.com`. Empty: CORS off. */
  readonly corsOrigins: readonly string[];
  /** Send `Strict-Transport-Security` (only behind TLS). */
  readonly hsts: boolean;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Answer headers a browser page may read: the request id, a 429's wait, and a saved write's warnings. */
export const EXPOSED_HEADERS = 'X-Request-Id, Retry-After, X-KisJobs-Warning';

export const DENY_ALL_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** The request id of a request (set by `requestContext`). */
export function requestIdOf(res: Response): string {
  const id: unknown = res.locals.requestId;
  return typeof id === 'string' ? id : 'unknown';
}

export function requestContext(options: SecurityOptions) {
  const allowed = new Set(options.corsOrigins);
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.get('x-request-id');
    const requestId = incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Content-Security-Policy', DENY_ALL_CSP);
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'no-store');
    if (options.hsts) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');

    const origin = req.get('origin');
    if (origin !== undefined && allowed.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
      if (req.method === 'OPTIONS' && req.get('access-control-request-method') !== undefined) {
        res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE');
        res.setHeader(
          'Access-Control-Allow-Headers',
          'Authorization, Content-Type, X-Request-Id, Last-Event-ID',
        );
        res.setHeader('Access-Control-Max-Age', '600');
        res.status(204).end();
        return;
      }
    } else if (allowed.size > 0) {
      res.setHeader('Vary', 'Origin');
    }
    next();
  };
}
