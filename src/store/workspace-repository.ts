import type { Db } from './database.js';

export interface WorkspaceRow {
  tenant_id: string;
  id: string;
  name: string;
  root_path: string;
  adopted: 0 | 1;
  runtime: string;
  status: string;
  created_by: string;
  created_at: number;
  container_id: string | null;
  runtime_config_json: string | null;
}

/** Every query takes the tenant: a workspace of another tenant is indistinguishable from a missing one. */
export class WorkspaceRepository {
  private readonly insertStmt;
  private readonly byIdStmt;
  private readonly byNameStmt;
  private readonly byRootStmt;
  private readonly listStmt;
  private readonly deleteStmt;
  private readonly allRootsStmt;
  private readonly runtimeStateStmt;
  private readonly runtimeConfigStmt;
  private readonly dockerStmt;
  private readonly createdStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO workspaces (tenant_id, id, name, root_path, adopted, runtime, status, created_by, created_at, container_id, runtime_config_json)
       VALUES (@tenant_id, @id, @name, @root_path, @adopted, @runtime, @status, @created_by, @created_at, @container_id, @runtime_config_json)`,
    );
    this.byIdStmt = db.prepare('SELECT * FROM workspaces WHERE tenant_id = ? AND id = ?');
    this.byNameStmt = db.prepare('SELECT * FROM workspaces WHERE tenant_id = ? AND name = ?');
    this.byRootStmt = db.prepare('SELECT * FROM workspaces WHERE tenant_id = ? AND root_path = ?');
    this.listStmt = db.prepare('SELECT * FROM workspaces WHERE tenant_id = ? AND name > ? ORDER BY name LIMIT ?');
    this.deleteStmt = db.prepare('DELETE FROM workspaces WHERE tenant_id = ? AND id = ?');
    this.allRootsStmt = db.prepare('SELECT root_path FROM workspaces').pluck();
    this.runtimeStateStmt = db.prepare('UPDATE workspaces SET status = ?, container_id = coalesce(?, container_id) WHERE tenant_id = ? AND id = ?');
    this.runtimeConfigStmt = db.prepare('UPDATE workspaces SET runtime_config_json = ? WHERE tenant_id = ? AND id = ?');
    this.dockerStmt = db.prepare("SELECT * FROM workspaces WHERE runtime = 'docker'");
    this.createdStmt = db.prepare('SELECT * FROM workspaces WHERE adopted = 0');
  }

  insert(row: WorkspaceRow): void {
    this.insertStmt.run(row);
  }

  findById(tenantId: string, id: string): WorkspaceRow | undefined {
    return this.byIdStmt.get(tenantId, id) as WorkspaceRow | undefined;
  }

  findByName(tenantId: string, name: string): WorkspaceRow | undefined {
    return this.byNameStmt.get(tenantId, name) as WorkspaceRow | undefined;
  }

  findByRoot(tenantId: string, rootPath: string): WorkspaceRow | undefined {
    return this.byRootStmt.get(tenantId, rootPath) as WorkspaceRow | undefined;
  }

  /** Keyset paging by name. */
  list(tenantId: string, afterName: string, limit: number): WorkspaceRow[] {
    return this.listStmt.all(tenantId, afterName, limit) as WorkspaceRow[];
  }

  delete(tenantId: string, id: string): boolean {
    return this.deleteStmt.run(tenantId, id).changes > 0;
  }

  /** Every registered root, across tenants: used only to refuse overlapping directories. */
  allRootPaths(): string[] {
    return this.allRootsStmt.all() as string[];
  }

  setRuntimeState(tenantId: string, id: string, status: string, containerId: string | null = null): void {
    this.runtimeStateStmt.run(status, containerId, tenantId, id);
  }

  setRuntimeConfig(tenantId: string, id: string, configJson: string): void {
    this.runtimeConfigStmt.run(configJson, tenantId, id);
  }

  /** Workspaces CodeBuddy created (not adopted), of every tenant: their disks are mounted again at start. */
  allCreated(): WorkspaceRow[] {
    return this.createdStmt.all() as WorkspaceRow[];
  }

  /** Docker workspaces of every tenant: what reconciliation at start walks. */
  allDocker(): WorkspaceRow[] {
    return this.dockerStmt.all() as WorkspaceRow[];
  }
}
