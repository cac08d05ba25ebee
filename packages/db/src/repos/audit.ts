/**
 * The audit trail: one row per mutating API request. Rows are history: they name users and tokens by plain
 * text ids (no foreign keys), so deleting a user does not change what it did. Listed newest first with
 * keyset paging on (at, id), served by `audit_events_at_id_idx` (or the per-actor index).
 */
import type { DbClient } from '../client.js';
import type { AuditEvent, Prisma } from '../generated/prisma/client.js';
import type { ActorKind } from '../generated/prisma/enums.js';
import { afterCursor, pageFrom, pageSize } from './cursor.js';
import type { Page, PageRequest } from './runs-list.js';

export interface NewAuditEvent {
  readonly id: string;
  readonly at: Date;
  readonly actorKind: ActorKind;
  readonly actorUserId: string | null;
  readonly actorTokenId: string | null;
  readonly actorName: string | null;
  readonly action: string;
  readonly targetType: string | null;
  readonly targetId: string | null;
  readonly ip: string | null;
  readonly requestId: string | null;
  readonly status: number | null;
  readonly details: Readonly<Record<string, unknown>>;
}

export function insertAuditEvent(db: DbClient, event: NewAuditEvent): Promise<AuditEvent> {
  return db.auditEvent.create({ data: { ...event, details: event.details as Prisma.InputJsonObject } });
}

export interface AuditFilter {
  readonly actorUserId?: string;
  readonly action?: string;
  readonly targetType?: string;
  readonly targetId?: string;
  /** `success`: status 2xx; `failure`: anything else (refused, invalid, failed). */
  readonly outcome?: 'success' | 'failure';
  /** `at >= from` */
  readonly from?: Date;
  /** `at < to` */
  readonly to?: Date;
}

export async function listAuditEvents(
  db: DbClient,
  filter: AuditFilter,
  page: PageRequest = {},
): Promise<Page<AuditEvent>> {
  const limit = pageSize(page.limit);
  const and: Prisma.AuditEventWhereInput[] = [];
  if (filter.actorUserId !== undefined) and.push({ actorUserId: filter.actorUserId });
  if (filter.action !== undefined) and.push({ action: filter.action });
  if (filter.targetType !== undefined) and.push({ targetType: filter.targetType });
  if (filter.targetId !== undefined) and.push({ targetId: filter.targetId });
  if (filter.outcome === 'success') and.push({ status: { gte: 200, lt: 300 } });
  if (filter.outcome === 'failure') {
    and.push({ OR: [{ status: null }, { status: { lt: 200 } }, { status: { gte: 300 } }] });
  }
  if (filter.from !== undefined) and.push({ at: { gte: filter.from } });
  if (filter.to !== undefined) and.push({ at: { lt: filter.to } });
  and.push(...afterCursor<(typeof and)[number]>('at', page.cursor));
  const rows = await db.auditEvent.findMany({
    where: { AND: and },
    orderBy: [{ at: 'desc' }, { id: 'desc' }],
    take: limit + 1,
  });
  return pageFrom(rows, limit, (row) => row.at);
}
