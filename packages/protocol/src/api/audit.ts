/**
 * Audit DTOs: one event per mutating API request (who, what, on which target, from where, how it ended).
 * `details` holds only what the route chose to record, never a password or a token.
 */
import { z } from 'zod';
import { IsoDateTime, IsoDateTimeInput } from '../common.js';
import { UserId } from '../ids.js';
import { pageQueryFields } from './paging.js';

/** Who acted: a user with a session, a user's API token, the scheduler itself, or nobody yet (a login). */
export const ACTOR_KINDS = ['user', 'token', 'system', 'anonymous'] as const;
export const ActorKind = z.enum(ACTOR_KINDS);
export type ActorKind = z.infer<typeof ActorKind>;

export const AUDIT_OUTCOMES = ['success', 'failure'] as const;
export const AuditOutcome = z.enum(AUDIT_OUTCOMES);
export type AuditOutcome = z.infer<typeof AuditOutcome>;

export const AuditEvent = z.object({
  id: z.string(),
  at: IsoDateTime,
  actor: z.object({
    kind: ActorKind,
    userId: z.string().nullable(),
    tokenId: z.string().nullable(),
    /** The username at the time of the event. */
    name: z.string().nullable(),
  }),
  /** What was done, e.g. `scenes.pause` (the route's id). */
  action: z.string(),
  target: z.object({ type: z.string().nullable(), id: z.string().nullable() }),
  ip: z.string().nullable(),
  requestId: z.string().nullable(),
  /** The HTTP status the request ended with. */
  status: z.number().int().nullable(),
  details: z.record(z.string(), z.unknown()),
});
export type AuditEvent = z.infer<typeof AuditEvent>;

/** `GET /api/audit` filters; `from` inclusive, `to` exclusive. */
export const AuditQuery = z.strictObject({
  actorUserId: UserId.optional(),
  action: z.string().min(1).max(200).optional(),
  targetType: z.string().min(1).max(100).optional(),
  targetId: z.string().min(1).max(200).optional(),
  outcome: AuditOutcome.optional(),
  from: IsoDateTimeInput.optional(),
  to: IsoDateTimeInput.optional(),
  ...pageQueryFields,
});
export type AuditQuery = z.infer<typeof AuditQuery>;
