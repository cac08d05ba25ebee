/** Audit rows → the API's `AuditEvent` DTO. */
import type { AuditEvent as AuditRow } from '@kisjobs/db';
import type { AuditEvent } from '@kisjobs/protocol';

export function auditEventDto(row: AuditRow): AuditEvent {
  const details = row.details;
  return {
    id: row.id,
    at: row.at.toISOString(),
    actor: { kind: row.actorKind, userId: row.actorUserId, tokenId: row.actorTokenId, name: row.actorName },
    action: row.action,
    target: { type: row.targetType, id: row.targetId },
    ip: row.ip,
    requestId: row.requestId,
    status: row.status,
    details: typeof details === 'object' && details !== null && !Array.isArray(details) ? { ...details } : {},
  };
}
