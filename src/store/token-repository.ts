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
}

export class TokenRepository {
  private readonly insertStmt;
  private readonly byIdStmt;
  private readonly countStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare(
      'INSERT INTO api_tokens (id, tenant_id, user_id, role, secret_hash, label, created_at) VALUES (@id, @tenant_id, @user_id, @role, @secret_hash, @label, @created_at)',
    );
    this.byIdStmt = db.prepare('SELECT * FROM api_tokens WHERE id = ?');
    this.countStmt = db.prepare('SELECT count(*) FROM api_tokens WHERE tenant_id = ?').pluck();
  }

  insert(row: Omit<ApiTokenRow, 'revoked_at'>): void {
    this.insertStmt.run(row);
  }

  findById(id: string): ApiTokenRow | undefined {
    return this.byIdStmt.get(id) as ApiTokenRow | undefined;
  }

  countForTenant(tenantId: string): number {
    return this.countStmt.get(tenantId) as number;
  }
}
