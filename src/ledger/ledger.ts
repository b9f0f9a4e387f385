import type { Clock } from '../core/clock.js';
import { toCodeBuddyError, type CodeBuddyError } from '../core/errors.js';
import type { IdGenerator } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import type { Db } from '../store/database.js';
import type { ActionRepository } from '../store/action-repository.js';
import type { Principal } from '../auth/principal.js';
import { describePrincipal } from '../auth/principal.js';
import type { AuditChain } from './audit-chain.js';
import { redactArguments } from './redaction.js';

export type Effect = 'read' | 'write' | 'exec' | 'admin';

export interface ActionRequest {
  operation: string;
  effect: Effect;
  principal: Principal;
  correlationId: string;
  arguments: unknown;
}

/** Filled in while the action runs: what it touched and how to summarize its result. */
export interface ActionDraft {
  readonly id: string;
  workspaceId: string | null;
}

export interface ActionOutcome<T> {
  result: T;
  summary: string;
}

/**
 * The entry point every operation call passes through. It records one action row and
 * one audit event per call, in one transaction, whatever the outcome; a call whose
 * record cannot be written fails rather than going unrecorded.
 */
export class Ledger {
  private readonly commit: (action: Parameters<ActionRepository['insert']>[0]) => void;

  constructor(
    db: Db,
    actions: ActionRepository,
    audit: AuditChain,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly secretKeys: readonly string[],
    private readonly logger: Logger,
  ) {
    this.commit = db.transaction((action) => {
      actions.insert(action);
      audit.append({
        tenantId: action.tenant_id,
        at: action.started_at,
        type: 'action.recorded',
        actor: `${action.tenant_id}/${action.user_id}`,
        workspaceId: action.workspace_id,
        actionId: action.id,
        correlationId: action.correlation_id,
        payload: { operation: action.operation, effect: action.effect, status: action.status, error_code: action.error_code },
      });
    });
  }

  async run<T>(request: ActionRequest, perform: (draft: ActionDraft) => Promise<ActionOutcome<T>>): Promise<{ actionId: string; result: T }> {
    const draft: ActionDraft = { id: this.ids.next('act'), workspaceId: null };
    const startedAt = this.clock.now();
    const started = this.clock.monotonic();
    let outcome: ActionOutcome<T> | undefined;
    let failure: CodeBuddyError | undefined;
    try {
      outcome = await perform(draft);
    } catch (error) {
      failure = toCodeBuddyError(error);
      if (failure !== error) this.logger.error({ err: error, correlationId: request.correlationId, operation: request.operation }, 'operation failed unexpectedly');
    }

    this.commit({
      tenant_id: request.principal.tenantId,
      id: draft.id,
      user_id: request.principal.userId,
      role: request.principal.role,
      workspace_id: draft.workspaceId,
      operation: request.operation,
      effect: request.effect,
      arguments_json: JSON.stringify(redactArguments(request.arguments, this.secretKeys) ?? null),
      status: failure ? 'failed' : 'succeeded',
      result_summary: failure ? failure.message.slice(0, 500) : outcome!.summary.slice(0, 500),
      error_code: failure?.code ?? null,
      correlation_id: request.correlationId,
      started_at: startedAt,
      duration_ms: this.clock.monotonic() - started,
    });
    this.logger.debug({ correlationId: request.correlationId, actionId: draft.id, operation: request.operation, actor: describePrincipal(request.principal), error: failure?.code }, 'action recorded');

    if (failure) throw failure;
    return { actionId: draft.id, result: outcome!.result };
  }
}
