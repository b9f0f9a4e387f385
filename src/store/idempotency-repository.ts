import type { Db } from './database.js';

export interface IdempotencyRow {
  tenant_id: string;
  /** Keys are per user: another user's identical key is another key. */
  user_id: string;
  key: string;
  operation: string;
  request_hash: string;
  state: 'pending' | 'done' | 'interrupted';
  action_id: string | null;
  outcome_json: string | null;
  created_at: number;
}

export class IdempotencyRepository {
  private readonly claimStmt;
  private readonly findStmt;
  private readonly completeStmt;
  private readonly releaseStmt;
  private readonly interruptStmt;
  private readonly expireStmt;

  constructor(db: Db) {
    this.claimStmt = db.prepare(
      `INSERT OR IGNORE INTO idempotency_keys (tenant_id, user_id, key, operation, request_hash, state, created_at)
       VALUES (@tenant_id, @user_id, @key, @operation, @request_hash, 'pending', @created_at)`,
    );
    this.findStmt = db.prepare('SELECT * FROM idempotency_keys WHERE tenant_id = ? AND user_id = ? AND key = ?');
    this.completeStmt = db.prepare("UPDATE idempotency_keys SET state = 'done', action_id = ?, outcome_json = ? WHERE tenant_id = ? AND user_id = ? AND key = ?");
    this.releaseStmt = db.prepare('DELETE FROM idempotency_keys WHERE tenant_id = ? AND user_id = ? AND key = ?');
    this.interruptStmt = db.prepare("UPDATE idempotency_keys SET state = 'interrupted' WHERE state = 'pending'");
    this.expireStmt = db.prepare('DELETE FROM idempotency_keys WHERE created_at < ?');
  }

  /** Takes the key for a first call; false when the user already used it. */
  claim(row: Pick<IdempotencyRow, 'tenant_id' | 'user_id' | 'key' | 'operation' | 'request_hash' | 'created_at'>): boolean {
    return this.claimStmt.run(row).changes === 1;
  }

  find(tenantId: string, userId: string, key: string): IdempotencyRow | undefined {
    return this.findStmt.get(tenantId, userId, key) as IdempotencyRow | undefined;
  }

  complete(tenantId: string, userId: string, key: string, actionId: string, outcomeJson: string): void {
    this.completeStmt.run(actionId, outcomeJson, tenantId, userId, key);
  }

  release(tenantId: string, userId: string, key: string): void {
    this.releaseStmt.run(tenantId, userId, key);
  }

  /** Pending rows of a process that is gone: their calls may or may not have taken effect. */
  markInterrupted(): number {
    return this.interruptStmt.run().changes;
  }

  expireBefore(time: number): number {
    return this.expireStmt.run(time).changes;
  }
}
