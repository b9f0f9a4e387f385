import type { Db } from './database.js';

export const proposalStates = ['proposed', 'approved', 'rejected', 'expired', 'applying', 'applied', 'failed'] as const;
export type ProposalState = (typeof proposalStates)[number];

export interface ProposalRow {
  tenant_id: string;
  action_id: string;
  workspace_id: string;
  operation: string;
  requested_by: string;
  arguments_json: string;
  preview: string;
  base_versions_json: string;
  state: ProposalState;
  decided_by: string | null;
  reason: string | null;
  result_json: string | null;
  error_code: string | null;
  error_message: string | null;
  created_at: number;
  expires_at: number;
  updated_at: number;
}

export class ProposalRepository {
  private readonly insertStmt;
  private readonly findStmt;
  private readonly transitionStmt;
  private readonly listStmt;
  private readonly listByStateStmt;
  private readonly dueStmt;
  private readonly inStateStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO proposals (tenant_id, action_id, workspace_id, operation, requested_by, arguments_json, preview, base_versions_json, state, created_at, expires_at, updated_at)
       VALUES (@tenant_id, @action_id, @workspace_id, @operation, @requested_by, @arguments_json, @preview, @base_versions_json, 'proposed', @created_at, @expires_at, @created_at)`,
    );
    this.findStmt = db.prepare('SELECT * FROM proposals WHERE tenant_id = ? AND action_id = ?');
    // Compare-and-set: a transition only happens from the state the caller saw.
    this.transitionStmt = db.prepare(
      `UPDATE proposals SET state = @to, decided_by = coalesce(@decided_by, decided_by), reason = coalesce(@reason, reason),
         result_json = coalesce(@result_json, result_json), error_code = coalesce(@error_code, error_code),
         error_message = coalesce(@error_message, error_message), updated_at = @at
       WHERE tenant_id = @tenant_id AND action_id = @action_id AND state = @from`,
    );
    this.listStmt = db.prepare('SELECT * FROM proposals WHERE tenant_id = ? AND action_id < ? ORDER BY action_id DESC LIMIT ?');
    this.listByStateStmt = db.prepare('SELECT * FROM proposals WHERE tenant_id = ? AND state = ? AND action_id < ? ORDER BY action_id DESC LIMIT ?');
    this.dueStmt = db.prepare("SELECT * FROM proposals WHERE state IN ('proposed', 'approved') AND expires_at <= ?");
    this.inStateStmt = db.prepare('SELECT * FROM proposals WHERE state = ?');
  }

  insert(row: Pick<ProposalRow, 'tenant_id' | 'action_id' | 'workspace_id' | 'operation' | 'requested_by' | 'arguments_json' | 'preview' | 'base_versions_json' | 'created_at' | 'expires_at'>): void {
    this.insertStmt.run(row);
  }

  find(tenantId: string, actionId: string): ProposalRow | undefined {
    return this.findStmt.get(tenantId, actionId) as ProposalRow | undefined;
  }

  transition(change: {
    tenant_id: string;
    action_id: string;
    from: ProposalState;
    to: ProposalState;
    at: number;
    decided_by?: string;
    reason?: string;
    result_json?: string;
    error_code?: string;
    error_message?: string;
  }): boolean {
    return (
      this.transitionStmt.run({ decided_by: null, reason: null, result_json: null, error_code: null, error_message: null, ...change }).changes === 1
    );
  }

  /** Newest first, keyset-paged by action id (time-ordered). */
  list(tenantId: string, state: ProposalState | undefined, beforeActionId: string, limit: number): ProposalRow[] {
    return (state ? this.listByStateStmt.all(tenantId, state, beforeActionId, limit) : this.listStmt.all(tenantId, beforeActionId, limit)) as ProposalRow[];
  }

  /** Undecided or unapplied proposals past their expiry, across tenants. */
  due(now: number): ProposalRow[] {
    return this.dueStmt.all(now) as ProposalRow[];
  }

  inState(state: ProposalState): ProposalRow[] {
    return this.inStateStmt.all(state) as ProposalRow[];
  }
}
