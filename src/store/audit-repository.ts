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

export interface AuditFilter {
  workspaceId?: string;
  actor?: string;
  operation?: string;
  status?: string;
  correlationId?: string;
  since?: number;
  until?: number;
}

export class AuditRepository {
  private readonly insertStmt;
  private readonly lastStmt;
  private readonly rangeStmt;

  private readonly tenantsStmt;
  private readonly queryStatements = new Map<string, ReturnType<Db['prepare']>>();

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO audit_events (tenant_id, seq, at, type, actor, workspace_id, action_id, correlation_id, payload_json, prev_hash, hash)
       VALUES (@tenant_id, @seq, @at, @type, @actor, @workspace_id, @action_id, @correlation_id, @payload_json, @prev_hash, @hash)`,
    );
    this.lastStmt = db.prepare('SELECT seq, hash FROM audit_events WHERE tenant_id = ? ORDER BY seq DESC LIMIT 1');
    this.rangeStmt = db.prepare('SELECT * FROM audit_events WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?');
    this.tenantsStmt = db.prepare('SELECT DISTINCT tenant_id FROM audit_events ORDER BY tenant_id').pluck();
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

  tenants(): string[] {
    return this.tenantsStmt.all() as string[];
  }

  /** Events after `afterSeq` matching every given filter, in sequence order. */
  query(tenantId: string, filter: AuditFilter, afterSeq: number, limit: number): AuditEventRow[] {
    const where = ['tenant_id = @tenantId', 'seq > @afterSeq'];
    if (filter.workspaceId !== undefined) where.push('workspace_id = @workspaceId');
    if (filter.actor !== undefined) where.push('actor = @actor');
    if (filter.operation !== undefined) where.push("json_extract(payload_json, '$.operation') = @operation");
    if (filter.status !== undefined) where.push("json_extract(payload_json, '$.status') = @status");
    if (filter.correlationId !== undefined) where.push('correlation_id = @correlationId');
    if (filter.since !== undefined) where.push('at >= @since');
    if (filter.until !== undefined) where.push('at < @until');
    const sql = `SELECT * FROM audit_events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT @limit`;
    // At most 2^7 filter shapes: each is prepared once.
    let statement = this.queryStatements.get(sql);
    if (!statement) this.queryStatements.set(sql, (statement = this.db.prepare(sql)));
    return statement.all({ tenantId, afterSeq, limit, ...filter }) as AuditEventRow[];
  }
}
