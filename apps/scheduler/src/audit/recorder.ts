/**
 * Writing the audit trail. The HTTP adapter records every mutating request through `record` once its outcome
 * is known; services may record system actions the same way. A failed write never fails the request it
 * describes (the change has happened by then): it is logged as an error and counted by the caller.
 *
 * `details` passes through `redact` first: keys that name secrets are dropped whatever a route put there,
 * strings are cut at 500 characters and the whole is bounded, so the trail can never hold a password or token.
 */
import { insertAuditEvent, newId, type PrismaClient } from '@kisjobs/db';
import type { ActorKind } from '@kisjobs/protocol';
import type { Principal } from '../auth/principal.js';
import { errorMessage, type Clock, type Logger } from '../registry/ports.js';

export interface AuditActor {
  readonly kind: ActorKind;
  readonly userId: string | null;
  readonly tokenId: string | null;
  readonly name: string | null;
}

export interface AuditEntry {
  readonly actor: AuditActor;
  readonly action: string;
  readonly targetType: string | null;
  readonly targetId: string | null;
  readonly ip: string | null;
  readonly requestId: string | null;
  readonly status: number | null;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface AuditRecorder {
  /** Resolves true when the row was written; false (after logging) when it could not be. Never rejects. */
  record(entry: AuditEntry): Promise<boolean>;
}

export const ANONYMOUS: AuditActor = { kind: 'anonymous', userId: null, tokenId: null, name: null };
export const SYSTEM: AuditActor = { kind: 'system', userId: null, tokenId: null, name: 'scheduler' };

export function actorOf(principal: Principal | null): AuditActor {
  if (principal === null) return ANONYMOUS;
  const tokenId = principal.credential.kind === 'token' ? principal.credential.tokenId : null;
  return {
    kind: tokenId === null ? 'user' : 'token',
    userId: principal.userId,
    tokenId,
    name: principal.username,
  };
}

export function createAuditRecorder(deps: {
  readonly prisma: PrismaClient;
  readonly clock: Clock;
  readonly logger: Logger;
}): AuditRecorder {
  return {
    async record(entry) {
      const at = deps.clock.now();
      try {
        await insertAuditEvent(deps.prisma, {
          id: newId('aud', at.getTime()),
          at,
          actorKind: entry.actor.kind,
          actorUserId: entry.actor.userId,
          actorTokenId: entry.actor.tokenId,
          actorName: entry.actor.name,
          action: clip(entry.action, 200),
          targetType: entry.targetType === null ? null : clip(entry.targetType, 100),
          targetId: entry.targetId === null ? null : clip(entry.targetId, 200),
          ip: entry.ip === null ? null : clip(entry.ip, 100),
          requestId: entry.requestId,
          status: entry.status,
          details: redact(entry.details),
        });
        return true;
      } catch (error) {
        deps.logger.error('audit event not written', {
          error: errorMessage(error),
          action: entry.action,
          requestId: entry.requestId,
        });
        return false;
      }
    },
  };
}

const SECRET_KEY =
  /password|passwd|secret|authorization|cookie|credential|hash$|^(token|api_?key|access_?token|refresh_?token)$/i;
const MAX_DETAIL_BYTES = 4_096;

/** A JSON-safe copy of `details` without secret-looking keys, short strings and a bounded size. */
export function redact(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const clean = scrub(details, 0);
  const out = typeof clean === 'object' && clean !== null && !Array.isArray(clean) ? clean : {};
  return JSON.stringify(out).length > MAX_DETAIL_BYTES
    ? { truncated: true }
    : (out as Record<string, unknown>);
}

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return clip(value, 500);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  if (depth >= 4) return '[…]';
  if (Array.isArray(value)) return value.slice(0, 50).map((item) => scrub(item, depth + 1));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (SECRET_KEY.test(key) || item === undefined) continue;
      out[key] = scrub(item, depth + 1);
    }
    return out;
  }
  return undefined;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
