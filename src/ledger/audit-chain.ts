import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { AuditEventRow, AuditFilter, AuditRepository } from '../store/audit-repository.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEventInput {
  tenantId: string;
  at: number;
  type: string;
  actor: string;
  workspaceId: string | null;
  actionId: string | null;
  correlationId: string | null;
  payload: Record<string, unknown>;
}

/** sha256 over the previous hash and the RFC 8785 canonical form of every stored field. */
export function hashEvent(prevHash: string, row: Omit<AuditEventRow, 'prev_hash' | 'hash'>): string {
  const { payload_json, ...fields } = row;
  const canonical = canonicalize({ ...fields, payload: JSON.parse(payload_json) as unknown });
  return createHash('sha256').update(prevHash).update('\n').update(canonical!).digest('hex');
}

/**
 * Appends events to a tenant's chain. Must be called inside the caller's write
 * transaction: reading the last hash and inserting the next row are one unit.
 */
export class AuditChain {
  constructor(private readonly repository: AuditRepository) {}

  append(event: AuditEventInput): AuditEventRow {
    const last = this.repository.last(event.tenantId);
    const base = {
      tenant_id: event.tenantId,
      seq: (last?.seq ?? 0) + 1,
      at: event.at,
      type: event.type,
      actor: event.actor,
      workspace_id: event.workspaceId,
      action_id: event.actionId,
      correlation_id: event.correlationId,
      payload_json: JSON.stringify(event.payload),
    };
    const prevHash = last?.hash ?? GENESIS_HASH;
    const row: AuditEventRow = { ...base, prev_hash: prevHash, hash: hashEvent(prevHash, base) };
    this.repository.insert(row);
    return row;
  }

  /** Walks the tenant's chain; reports the first sequence number whose link or hash does not hold. */
  verify(tenantId: string): { ok: true; events: number } | { ok: false; brokenAtSeq: number; events: number } {
    let expectedSeq = 1;
    let prevHash = GENESIS_HASH;
    for (;;) {
      const page = this.repository.page(tenantId, expectedSeq - 1, 1000);
      if (page.length === 0) return { ok: true, events: expectedSeq - 1 };
      for (const row of page) {
        const { prev_hash, hash, ...base } = row;
        if (row.seq !== expectedSeq || prev_hash !== prevHash || hashEvent(prev_hash, base) !== hash) {
          return { ok: false, brokenAtSeq: expectedSeq, events: expectedSeq - 1 };
        }
        prevHash = hash;
        expectedSeq++;
      }
    }
  }

  query(tenantId: string, filter: AuditFilter, afterSeq: number, limit: number): AuditEventRow[] {
    return this.repository.query(tenantId, filter, afterSeq, limit);
  }

  /** Every tenant that has a chain. */
  tenants(): string[] {
    return this.repository.tenants();
  }
}
