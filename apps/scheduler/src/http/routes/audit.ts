/** `GET /api/audit`: the audit trail, newest first, with filters and cursor paging (admins only). */
import { listAuditEvents, type AuditFilter } from '@kisjobs/db';
import { AuditEvent, AuditQuery, pageOf } from '@kisjobs/protocol';
import { auditEventDto } from '../../audit/dto.js';
import type { RouteDeps } from '../deps.js';
import { defineRoute, type Route } from '../route.js';

export function auditRoutes(deps: RouteDeps): Route[] {
  return [
    defineRoute({
      id: 'audit.list',
      method: 'GET',
      path: '/api/audit',
      tags: ['audit'],
      summary: 'Who did what, when: one event per mutating request',
      access: { action: 'admin' },
      query: AuditQuery,
      responses: { 200: { description: 'Events, newest first', schema: pageOf(AuditEvent) } },
      handler: async (req) => {
        const { limit, cursor, from, to, ...rest } = req.query;
        const filter: AuditFilter = {
          ...rest,
          ...(from === undefined ? {} : { from: new Date(from) }),
          ...(to === undefined ? {} : { to: new Date(to) }),
        };
        const page = await listAuditEvents(deps.prisma, filter, { limit, cursor });
        return { status: 200, body: { items: page.items.map(auditEventDto), nextCursor: page.nextCursor } };
      },
    }),
  ];
}
