import type { Db } from './database.js';

export interface PolicyRow {
  tenant_id: string;
  workspace_id: string;
  preset: string;
  rules_json: string;
  updated_by: string;
  updated_at: number;
}

export class PolicyRepository {
  private readonly findStmt;
  private readonly upsertStmt;

  constructor(db: Db) {
    this.findStmt = db.prepare('SELECT * FROM policies WHERE tenant_id = ? AND workspace_id = ?');
    this.upsertStmt = db.prepare(
      `INSERT INTO policies (tenant_id, workspace_id, preset, rules_json, updated_by, updated_at)
       VALUES (@tenant_id, @workspace_id, @preset, @rules_json, @updated_by, @updated_at)
       ON CONFLICT (tenant_id, workspace_id) DO UPDATE SET preset = excluded.preset, rules_json = excluded.rules_json,
         updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
    );
  }

  find(tenantId: string, workspaceId: string): PolicyRow | undefined {
    return this.findStmt.get(tenantId, workspaceId) as PolicyRow | undefined;
  }

  save(row: PolicyRow): void {
    this.upsertStmt.run(row);
  }
}
