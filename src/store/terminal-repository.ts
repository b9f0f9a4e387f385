import type { Db } from './database.js';

export interface TerminalRow {
  tenant_id: string;
  id: string;
  workspace_id: string;
  shell: string;
  status: 'open' | 'closed';
  exit_code: number | null;
  close_reason: string | null;
  created_by: string;
  created_at: number;
  closed_at: number | null;
}

export class TerminalRepository {
  private readonly insertStmt;
  private readonly findStmt;
  private readonly closeStmt;
  private readonly listStmt;
  private readonly closeAllStmt;
  private readonly reasonStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO terminals (tenant_id, id, workspace_id, shell, status, created_by, created_at)
       VALUES (@tenant_id, @id, @workspace_id, @shell, 'open', @created_by, @created_at)`,
    );
    this.findStmt = db.prepare('SELECT * FROM terminals WHERE tenant_id = ? AND id = ?');
    this.closeStmt = db.prepare("UPDATE terminals SET status = 'closed', exit_code = ?, close_reason = ?, closed_at = ? WHERE tenant_id = ? AND id = ? AND status = 'open'");
    this.listStmt = db.prepare('SELECT * FROM terminals WHERE tenant_id = ? AND workspace_id = ? ORDER BY id DESC LIMIT ?');
    this.reasonStmt = db.prepare("UPDATE terminals SET close_reason = ? WHERE tenant_id = ? AND id = ? AND status = 'closed'");
    this.closeAllStmt = db.prepare("UPDATE terminals SET status = 'closed', close_reason = ?, closed_at = ? WHERE status = 'open'");
  }

  insert(row: Pick<TerminalRow, 'tenant_id' | 'id' | 'workspace_id' | 'shell' | 'created_by' | 'created_at'>): void {
    this.insertStmt.run(row);
  }

  find(tenantId: string, id: string): TerminalRow | undefined {
    return this.findStmt.get(tenantId, id) as TerminalRow | undefined;
  }

  close(tenantId: string, id: string, exitCode: number | null, reason: string, at: number): void {
    this.closeStmt.run(exitCode, reason, at, tenantId, id);
  }

  /** A closed terminal's reason, corrected once the real cause is known. */
  setCloseReason(tenantId: string, id: string, reason: string): void {
    this.reasonStmt.run(reason, tenantId, id);
  }

  list(tenantId: string, workspaceId: string, limit: number): TerminalRow[] {
    return this.listStmt.all(tenantId, workspaceId, limit) as TerminalRow[];
  }

  /** Terminals an earlier process left open: their programs died with it. */
  closeAll(reason: string, at: number): number {
    return this.closeAllStmt.run(reason, at).changes;
  }
}
