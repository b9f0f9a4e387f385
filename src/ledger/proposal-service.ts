import type { Clock } from '../core/clock.js';
import type { EventBus } from '../core/event-bus.js';
import { CodeBuddyError, toCodeBuddyError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Principal } from '../auth/principal.js';
import { describePrincipal } from '../auth/principal.js';
import type { Db } from '../store/database.js';
import type { ActionRepository } from '../store/action-repository.js';
import type { ProposalRepository, ProposalRow, ProposalState } from '../store/proposal-repository.js';
import type { AuditChain } from './audit-chain.js';

/** Runs a held call for real: re-checks its base versions, then performs it. */
export type ProposalApplier = (proposal: ProposalRow) => Promise<{ output: Record<string, unknown>; text: string }>;

export const terminalStates: readonly ProposalState[] = ['applied', 'failed', 'rejected', 'expired'];

/**
 * Calls held for a human decision. Every transition is a compare-and-set on the state
 * (`proposed → approved | rejected | expired → applying → applied | failed`), written in one
 * transaction with its audit event and the action's status, so two deciders cannot both
 * win and nothing changes unrecorded. An approval applies at once, whoever gives it
 * (server or CLI); a proposal past its expiry can no longer be decided.
 */
export class ProposalService {
  private readonly commit: (proposal: ProposalRow, to: ProposalState, actor: string, extra?: { reason?: string; result?: unknown; error?: CodeBuddyError }) => boolean;

  constructor(
    db: Db,
    private readonly proposals: ProposalRepository,
    actions: ActionRepository,
    audit: AuditChain,
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly apply: ProposalApplier,
    private readonly logger: Logger,
    private readonly events?: EventBus,
  ) {
    this.commit = db.transaction((proposal: ProposalRow, to: ProposalState, actor: string, extra: { reason?: string; result?: unknown; error?: CodeBuddyError } = {}) => {
      const at = this.clock.now();
      const moved = proposals.transition({
        tenant_id: proposal.tenant_id,
        action_id: proposal.action_id,
        from: proposal.state,
        to,
        at,
        ...(to === 'approved' || to === 'rejected' ? { decided_by: actor } : {}),
        ...(extra.reason !== undefined ? { reason: extra.reason } : {}),
        ...(extra.result !== undefined ? { result_json: JSON.stringify(extra.result) } : {}),
        ...(extra.error ? { error_code: extra.error.code, error_message: extra.error.message } : {}),
      });
      if (!moved) return false;
      actions.setStatus(proposal.tenant_id, proposal.action_id, to === 'approved' ? 'proposed' : to === 'applied' ? 'applied' : to, extra.error?.code ?? null);
      audit.append({
        tenantId: proposal.tenant_id,
        at,
        type: `proposal.${to}`,
        actor,
        workspaceId: proposal.workspace_id,
        actionId: proposal.action_id,
        correlationId: null,
        payload: { operation: proposal.operation, from: proposal.state, to, ...(extra.reason ? { reason: extra.reason } : {}), ...(extra.error ? { error_code: extra.error.code } : {}) },
      });
      return true;
    });
  }

  /** A committed transition, announced on the bus: the one place action events come from. */
  private transition(proposal: ProposalRow, to: ProposalState, actor: string, extra?: { reason?: string; result?: unknown; error?: CodeBuddyError }): boolean {
    if (!this.commit(proposal, to, actor, extra)) return false;
    this.announce(proposal, to);
    return true;
  }

  private announce(proposal: ProposalRow, state: ProposalState): void {
    this.events?.publish('action.changed', { tenantId: proposal.tenant_id, workspaceId: proposal.workspace_id, actionId: proposal.action_id, operation: proposal.operation, state });
  }

  /** Holds a call; the caller records its action in the same flow. */
  hold(input: { principal: Principal; actionId: string; workspaceId: string; operation: string; arguments: unknown; preview: string; bases: Record<string, string | null> }): ProposalRow {
    const now = this.clock.now();
    this.proposals.insert({
      tenant_id: input.principal.tenantId,
      action_id: input.actionId,
      workspace_id: input.workspaceId,
      operation: input.operation,
      requested_by: describePrincipal(input.principal),
      arguments_json: JSON.stringify(input.arguments),
      preview: input.preview,
      base_versions_json: JSON.stringify(input.bases),
      created_at: now,
      expires_at: now + this.ttlMs,
    });
    const held = this.proposals.find(input.principal.tenantId, input.actionId)!;
    this.announce(held, 'proposed');
    return held;
  }

  /** The proposal as it stands, expired first if its time is up. */
  get(tenantId: string, actionId: string): ProposalRow | undefined {
    const row = this.proposals.find(tenantId, actionId);
    if (row && (row.state === 'proposed' || row.state === 'approved') && row.expires_at <= this.clock.now()) {
      this.transition(row, 'expired', 'system', { reason: 'not decided and applied before it expired' });
      return this.proposals.find(tenantId, actionId);
    }
    return row;
  }

  list(tenantId: string, state: ProposalState | undefined, beforeActionId: string, limit: number): ProposalRow[] {
    this.expireDue();
    return this.proposals.list(tenantId, state, beforeActionId, limit);
  }

  /** Approve (and apply at once) or reject a proposed call. */
  async decide(principal: Principal, actionId: string, verdict: 'approve' | 'reject', reason: string | undefined): Promise<ProposalRow> {
    const row = this.get(principal.tenantId, actionId);
    if (!row) throw new CodeBuddyError('E_NOT_FOUND', `no proposal ${actionId}`, { field: 'id' });
    if (row.state !== 'proposed') throw new CodeBuddyError('E_CONFLICT', `proposal ${actionId} is ${row.state}; only a proposed one can be decided`, { field: 'id', state: row.state });
    const actor = describePrincipal(principal);
    const to = verdict === 'approve' ? 'approved' : 'rejected';
    if (!this.transition(row, to, actor, reason !== undefined ? { reason } : {})) {
      throw new CodeBuddyError('E_CONFLICT', `proposal ${actionId} was decided meanwhile`, { field: 'id' });
    }
    if (to === 'approved') await this.applyApproved(this.proposals.find(principal.tenantId, actionId)!);
    return this.proposals.find(principal.tenantId, actionId)!;
  }

  /** Undecided or unapplied proposals past their time become `expired`. */
  expireDue(): number {
    let expired = 0;
    for (const row of this.proposals.due(this.clock.now())) {
      if (this.transition(row, 'expired', 'system', { reason: 'not decided and applied before it expired' })) expired++;
    }
    return expired;
  }

  /**
   * After a restart: an approved proposal is applied now (its approval stands); one that was
   * being applied when the process died is marked failed, since whether it took effect is unknown.
   */
  async recoverAfterRestart(): Promise<void> {
    for (const row of this.proposals.inState('applying')) {
      this.transition(row, 'failed', 'system', { error: new CodeBuddyError('E_INTERNAL', 'interrupted by a server restart while being applied; check the workspace and propose again') });
    }
    for (const row of this.proposals.inState('approved')) await this.applyApproved(row);
  }

  private async applyApproved(row: ProposalRow): Promise<void> {
    if (!this.transition(row, 'applying', 'system')) return;
    const applying = this.proposals.find(row.tenant_id, row.action_id)!;
    try {
      const { output } = await this.apply(applying);
      this.transition(applying, 'applied', 'system', { result: output });
    } catch (error) {
      const failure = toCodeBuddyError(error);
      if (failure !== error) this.logger.error({ err: error, actionId: row.action_id }, 'applying a proposal failed unexpectedly');
      this.transition(applying, 'failed', 'system', { error: failure });
    }
  }
}
