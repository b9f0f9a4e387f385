import type { Db } from './database.js';

export class TenantRepository {
  private readonly known = new Set<string>();
  private readonly insert;

  constructor(db: Db) {
    this.insert = db.prepare('INSERT OR IGNORE INTO tenants (id, created_at) VALUES (?, ?)');
  }

  /** Tenants come into being the first time a principal of theirs is seen (JWT issuers assert them). */
  ensure(tenantId: string, now: number): void {
    if (this.known.has(tenantId)) return;
    this.insert.run(tenantId, now);
    this.known.add(tenantId);
  }
}
