import type { Db } from './database.js';

export interface AuditEventRow {
  tenant_id: string;
  seq: number;
  at: number;
  type: string;
  actor: string;
  workspace_id: string | null;
  action_id: string | null;
  correlation_id: string | null;
  payload_json: string;
  prev_hash: string;
  hash: string;
}

export class AuditRepository {
  private readonly insertStmt;
  private readonly lastStmt;
  private readonly rangeStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO audit_events (tenant_id, seq, at, type, actor, workspace_id, action_id, correlation_id, payload_json, prev_hash, hash)
       VALUES (@tenant_id, @seq, @at, @type, @actor, @workspace_id, @action_id, @correlation_id, @payload_json, @prev_hash, @hash)`,
    );
    this.lastStmt = db.prepare('SELECT seq, hash FROM audit_events WHERE tenant_id = ? ORDER BY seq DESC LIMIT 1');
    this.rangeStmt = db.prepare('SELECT * FROM audit_events WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?');
  }

  insert(row: AuditEventRow): void {
    this.insertStmt.run(row);
  }

  last(tenantId: string): { seq: number; hash: string } | undefined {
    return this.lastStmt.get(tenantId) as { seq: number; hash: string } | undefined;
  }

  /** Events after `afterSeq`, in order. */
  page(tenantId: string, afterSeq: number, limit: number): AuditEventRow[] {
    return this.rangeStmt.all(tenantId, afterSeq, limit) as AuditEventRow[];
  }
}
