import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { CodeBuddyError } from '../core/errors.js';
import { moreMarker } from '../core/more-marker.js';
import type { AuditChain } from '../ledger/audit-chain.js';
import type { AuditEventRow } from '../store/audit-repository.js';
import { tenantOperation, type Operation } from './operation.js';

const eventShape = z.object({
  seq: z.number(),
  at: z.string(),
  type: z.string(),
  actor: z.string(),
  workspace_id: z.string().nullable(),
  action_id: z.string().nullable(),
  correlation_id: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});

export type AuditEventView = z.infer<typeof eventShape>;

/** An audit row as callers see it: times as ISO strings, the payload as `details`; hashes stay for `audit export`. */
export function viewAuditEvent(row: AuditEventRow): AuditEventView {
  return {
    seq: row.seq,
    at: new Date(row.at).toISOString(),
    type: row.type,
    actor: row.actor,
    workspace_id: row.workspace_id,
    action_id: row.action_id,
    correlation_id: row.correlation_id,
    details: JSON.parse(row.payload_json) as Record<string, unknown>,
  };
}

function time(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new CodeBuddyError('E_INVALID_ARGUMENT', `${field}: an ISO 8601 time, e.g. 2026-11-22T10:00:00Z`, { field });
  return parsed;
}

export function auditOperations(audit: AuditChain, pageSize: number): Operation[] {
  return [
    tenantOperation({
      name: 'audit_query',
      rest: { method: 'GET', path: '/api/audit' },
      title: 'Query audit trail',
      description: "Query this tenant's audit trail (who did what, when, with what outcome), paged.",
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({
        // An id filter over history (deleted workspaces included), not a workspace reference.
        workspace_id: z.string().min(1).max(200).optional(),
        actor: z.string().min(1).max(300).optional().describe('tenant/user'),
        operation: z.string().min(1).max(100).optional(),
        status: z.enum(['succeeded', 'failed', 'cancelled']).optional(),
        correlation_id: z.string().min(1).max(128).optional(),
        since: z.string().optional().describe('ISO time, inclusive'),
        until: z.string().optional().describe('ISO time, exclusive'),
        cursor: z.string().max(8192).optional(),
      }),
      output: z.object({ events: z.array(eventShape), next_cursor: z.string().optional() }),
      async run(input, context) {
        const filter = {
          ...(input.workspace_id !== undefined ? { workspaceId: input.workspace_id } : {}),
          ...(input.actor !== undefined ? { actor: input.actor } : {}),
          ...(input.operation !== undefined ? { operation: input.operation } : {}),
          ...(input.status !== undefined ? { status: input.status } : {}),
          ...(input.correlation_id !== undefined ? { correlationId: input.correlation_id } : {}),
          ...(input.since !== undefined ? { since: time(input.since, 'since') } : {}),
          ...(input.until !== undefined ? { until: time(input.until, 'until') } : {}),
        };
        const query = JSON.stringify(filter);
        let after = 0;
        if (input.cursor !== undefined) {
          const cursor = decodeCursor<{ q: string; after: number }>('audit_query', input.cursor);
          if (cursor.q !== query) throw new CodeBuddyError('E_INVALID_CURSOR', 'that cursor belongs to another audit_query', { field: 'cursor' });
          after = cursor.after;
        }
        const rows = audit.query(context.principal.tenantId, filter, after, pageSize + 1);
        const events = rows.slice(0, pageSize).map(viewAuditEvent);
        return rows.length > pageSize ? { events, next_cursor: encodeCursor('audit_query', { q: query, after: events[events.length - 1]!.seq }) } : { events };
      },
      render: (out) =>
        (out.events.length === 0
          ? 'no audit events match'
          : out.events
              .map((e) => {
                const d = e.details as { operation?: string; status?: string; error_code?: string | null };
                return `#${e.seq} ${e.at} ${e.actor} ${e.type}${d.operation ? ` ${d.operation}` : ''}${d.status ? ` ${d.status}` : ''}${d.error_code ? ` ${d.error_code}` : ''}${e.workspace_id ? ` ${e.workspace_id}` : ''}`;
              })
              .join('\n')) + moreMarker(out.next_cursor, `${out.events.length} events shown`),
    }),
  ];
}
