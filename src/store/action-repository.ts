import type { Db } from './database.js';

export interface ActionRow {
  tenant_id: string;
  id: string;
  user_id: string;
  role: string;
  workspace_id: string | null;
  operation: string;
  effect: string;
  arguments_json: string;
  /** Immediate calls end `succeeded` or `failed`; held ones move with their proposal. */
  status: 'succeeded' | 'failed' | 'cancelled' | 'proposed' | 'applying' | 'applied' | 'rejected' | 'expired';
  result_summary: string | null;
  error_code: string | null;
  correlation_id: string;
  started_at: number;
  duration_ms: number;
}

export class ActionRepository {
  private readonly insertStmt;
  private readonly byIdStmt;
  private readonly statusStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO actions (tenant_id, id, user_id, role, workspace_id, operation, effect, arguments_json, status, result_summary, error_code, correlation_id, started_at, duration_ms)
       VALUES (@tenant_id, @id, @user_id, @role, @workspace_id, @operation, @effect, @arguments_json, @status, @result_summary, @error_code, @correlation_id, @started_at, @duration_ms)`,
    );
    this.byIdStmt = db.prepare('SELECT * FROM actions WHERE tenant_id = ? AND id = ?');
    this.statusStmt = db.prepare('UPDATE actions SET status = ?, error_code = coalesce(?, error_code) WHERE tenant_id = ? AND id = ?');
  }

  insert(row: ActionRow): void {
    this.insertStmt.run(row);
  }

  findById(tenantId: string, id: string): ActionRow | undefined {
    return this.byIdStmt.get(tenantId, id) as ActionRow | undefined;
  }

  setStatus(tenantId: string, id: string, status: ActionRow['status'], errorCode: string | null = null): void {
    this.statusStmt.run(status, errorCode, tenantId, id);
  }
}
