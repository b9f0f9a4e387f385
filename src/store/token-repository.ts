import type { Db } from './database.js';
import type { Role } from '../auth/principal.js';

export interface ApiTokenRow {
  id: string;
  tenant_id: string;
  user_id: string;
  role: Role;
  secret_hash: string;
  label: string | null;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

/** A token as an operator may see it: never its secret's hash. */
export type ApiTokenListing = Omit<ApiTokenRow, 'secret_hash'>;

const LISTED_COLUMNS = 'id, tenant_id, user_id, role, label, created_at, revoked_at, last_used_at';

export class TokenRepository {
  private readonly insertStmt;
  private readonly byIdStmt;
  private readonly countStmt;
  private readonly listAllStmt;
  private readonly listTenantStmt;
  private readonly revokeStmt;
  private readonly touchStmt;
  private readonly revokedStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare(
      'INSERT INTO api_tokens (id, tenant_id, user_id, role, secret_hash, label, created_at) VALUES (@id, @tenant_id, @user_id, @role, @secret_hash, @label, @created_at)',
    );
    this.byIdStmt = db.prepare('SELECT * FROM api_tokens WHERE id = ?');
    this.countStmt = db.prepare('SELECT count(*) FROM api_tokens WHERE tenant_id = ?').pluck();
    this.listAllStmt = db.prepare(`SELECT ${LISTED_COLUMNS} FROM api_tokens ORDER BY tenant_id, created_at, id`);
    this.listTenantStmt = db.prepare(`SELECT ${LISTED_COLUMNS} FROM api_tokens WHERE tenant_id = ? ORDER BY created_at, id`);
    this.revokeStmt = db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
    this.touchStmt = db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?');
    this.revokedStmt = db.prepare('SELECT revoked_at IS NOT NULL FROM api_tokens WHERE id = ?').pluck();
  }

  insert(row: Omit<ApiTokenRow, 'revoked_at' | 'last_used_at'>): void {
    this.insertStmt.run(row);
  }

  findById(id: string): ApiTokenRow | undefined {
    return this.byIdStmt.get(id) as ApiTokenRow | undefined;
  }

  countForTenant(tenantId: string): number {
    return this.countStmt.get(tenantId) as number;
  }

  list(tenantId?: string): ApiTokenListing[] {
    return (tenantId === undefined ? this.listAllStmt.all() : this.listTenantStmt.all(tenantId)) as ApiTokenListing[];
  }

  /** True when this call revoked it; false when it was unknown or revoked already. */
  revoke(id: string, at: number): boolean {
    return this.revokeStmt.run(at, id).changes === 1;
  }

  touch(id: string, at: number): void {
    this.touchStmt.run(at, id);
  }

  /** Revoked, or gone: either way no longer valid. */
  isRevokedOrMissing(id: string): boolean {
    return (this.revokedStmt.get(id) as number | undefined) !== 0;
  }
}
