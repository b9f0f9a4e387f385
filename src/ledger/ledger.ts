import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Clock } from '../core/clock.js';
import { CodeBuddyError, toCodeBuddyError } from '../core/errors.js';
import type { IdGenerator } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import type { Db } from '../store/database.js';
import type { ActionRepository, ActionRow } from '../store/action-repository.js';
import type { IdempotencyRepository, IdempotencyRow } from '../store/idempotency-repository.js';
import type { Principal } from '../auth/principal.js';
import { describePrincipal } from '../auth/principal.js';
import type { AuditChain } from './audit-chain.js';
import { redactArguments, redactOutcome } from './redaction.js';

export type Effect = 'read' | 'write' | 'exec' | 'admin';

export interface ActionRequest {
  operation: string;
  effect: Effect;
  principal: Principal;
  correlationId: string;
  /** As the caller sent them; stored redacted. */
  arguments: unknown;
  /** Retries with this key get the first call's outcome instead of a second effect. */
  idempotencyKey?: string;
}

/** Filled in while the action runs: what it touched. */
export interface ActionDraft {
  readonly id: string;
  workspaceId: string | null;
}

export interface ActionOutcome<T> {
  result: T;
  summary: string;
  /**
   * A call held for approval is recorded as `proposed` (its proposal carries it on); one its
   * caller cancelled, which stopped short, as `cancelled`.
   */
  status?: 'proposed' | 'cancelled';
}

export interface LedgerResult<T> {
  actionId: string;
  result: T;
  /** Set when the result is the stored outcome of an earlier call with the same idempotency key. */
  replayOf?: string;
}

/** What an idempotency key keeps of the first call: its result, or its error. */
type StoredOutcome<T> = { ok: true; result: T; summary: string } | { ok: false; error: { code: CodeBuddyError['code']; message: string; details?: Record<string, unknown> } };

export interface LedgerOptions {
  secretKeys: readonly string[];
  /** How long an idempotency key is remembered. */
  idempotencyTtlMs: number;
  /**
   * Benchmarks only: run calls without writing their record, to measure what recording
   * costs. No setting or flag reaches this; only `createApp`'s overrides do.
   */
  unrecorded?: boolean;
}

function requestHash(operation: string, args: unknown): string {
  const { idempotency_key: _key, ...rest } = (args && typeof args === 'object' ? args : {}) as Record<string, unknown>;
  return createHash('sha256').update(operation).update('\n').update(canonicalize(rest) ?? '').digest('hex');
}

/**
 * Answers that refuse a call rather than report what it did: never stored under a key, so
 * a refused call does not use up (or poison) the key for a caller who may make it, and a
 * retry after the cause is fixed runs. A fault of ours (E_INTERNAL) is not worth keeping either.
 */
const unstoredCodes: ReadonlySet<string> = new Set(['E_FORBIDDEN', 'E_INVALID_ARGUMENT', 'E_UNAUTHENTICATED', 'E_CONFIG', 'E_INTERNAL']);

/** A call in two steps: deciding whether it may run at all, then running it. */
export interface LedgerCall<A, T> {
  /** Role, arguments, workspace, policy: throws to refuse. Runs before any idempotency key is consulted. */
  authorize(draft: ActionDraft): Promise<A>;
  perform(authorized: A, draft: ActionDraft): Promise<ActionOutcome<T>>;
}

interface Timing {
  startedAt: number;
  started: number;
}

/**
 * The entry point every operation call passes through. It records one action row and one
 * audit event per call, in one transaction, whatever the outcome; a call whose record
 * cannot be written fails rather than going unrecorded.
 *
 * With an idempotency key, the call is authorized first, exactly as without one: a replay
 * is only ever answered to a caller who may make the call now. The first call's outcome
 * (redacted like the arguments) is stored in the transaction that records it, and every
 * retry gets it back (and is itself recorded) with no second effect; a retry with other
 * arguments is refused; refusals are not stored. Keys are per user: another user of the
 * tenant presenting the same key has a key of their own, so nobody replays, takes or
 * poisons a key someone else uses. A concurrent retry waits for the first call to finish.
 */
export class Ledger {
  private readonly commit: (action: ActionRow, completeKey?: { key: string; outcome: string }) => void;
  /** First calls still running in this process, by tenant, user and key. */
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private claimsSincePurge = 0;

  constructor(
    db: Db,
    actions: ActionRepository,
    audit: AuditChain,
    private readonly keys: IdempotencyRepository,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly options: LedgerOptions,
    private readonly logger: Logger,
  ) {
    this.commit = db.transaction((action: ActionRow, completeKey?: { key: string; outcome: string }) => {
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
      if (completeKey) keys.complete(action.tenant_id, action.user_id, completeKey.key, action.id, completeKey.outcome);
    });
    // Calls that were running when a previous process died may have taken effect before their
    // record was written: a retry must not run them again blindly.
    const interrupted = keys.markInterrupted();
    if (interrupted > 0) logger.warn({ interrupted }, 'idempotency keys of calls interrupted by a restart: retries will be told the outcome is unknown');
    keys.expireBefore(clock.now() - options.idempotencyTtlMs);
  }

  async run<A, T>(request: ActionRequest, call: LedgerCall<A, T>): Promise<LedgerResult<T>> {
    const draft: ActionDraft = { id: this.ids.next('act'), workspaceId: null };
    if (this.options.unrecorded) return { actionId: draft.id, result: (await call.perform(await call.authorize(draft), draft)).result };
    const timing: Timing = { startedAt: this.clock.now(), started: this.clock.monotonic() };
    let authorized: A;
    try {
      authorized = await call.authorize(draft);
    } catch (error) {
      const done = this.firstCallThatRemovedItsTarget(request, error);
      if (done) return this.answerRetry(request, draft, timing, done, done.request_hash);
      return this.settle(request, draft, timing, () => Promise.reject(error));
    }
    const key = request.idempotencyKey;
    if (key === undefined) return this.settle(request, draft, timing, () => call.perform(authorized, draft));

    const { tenantId, userId } = request.principal;
    const slot = `${tenantId}\u0000${userId}\u0000${key}`;
    const running = this.inFlight.get(slot);
    if (running) await running.catch(() => undefined);

    // From here to the claim nothing awaits, so two calls of this process cannot both claim.
    const hash = requestHash(request.operation, request.arguments);
    const existing = this.keys.find(tenantId, userId, key);
    if (existing) return this.answerRetry(request, draft, timing, existing, hash);
    this.keys.claim({ tenant_id: tenantId, user_id: userId, key, operation: request.operation, request_hash: hash, created_at: this.clock.now() });
    this.purgeExpiredNowAndThen();

    const first = this.settle(request, draft, timing, () => call.perform(authorized, draft), key);
    this.inFlight.set(slot, first);
    try {
      return await first;
    } finally {
      this.inFlight.delete(slot);
    }
  }

  /**
   * A retry whose authorization failed for want of its target, where that user's first call
   * with the key (same operation, same arguments) is done: the first call removed the target
   * (`workspace_delete`). It was authorized then, and a replay has no effect: it gets the
   * first outcome rather than E_NOT_FOUND.
   */
  private firstCallThatRemovedItsTarget(request: ActionRequest, error: unknown): IdempotencyRow | undefined {
    const key = request.idempotencyKey;
    if (key === undefined || !(error instanceof CodeBuddyError) || error.code !== 'E_NOT_FOUND') return undefined;
    const existing = this.keys.find(request.principal.tenantId, request.principal.userId, key);
    const same = existing?.state === 'done' && existing.operation === request.operation && existing.request_hash === requestHash(request.operation, request.arguments);
    return same ? existing : undefined;
  }

  /** Runs the body, records the action (and the key's outcome, or releases the key), and answers. */
  private async settle<T>(request: ActionRequest, draft: ActionDraft, timing: Timing, body: () => Promise<ActionOutcome<T>>, key?: string): Promise<LedgerResult<T>> {
    let outcome: ActionOutcome<T> | undefined;
    let failure: CodeBuddyError | undefined;
    try {
      outcome = await body();
    } catch (error) {
      failure = toCodeBuddyError(error);
      if (failure !== error) this.logger.error({ err: error, correlationId: request.correlationId, operation: request.operation }, 'operation failed unexpectedly');
    }

    const action = this.actionRow(request, draft, timing.startedAt, this.clock.monotonic() - timing.started, failure, outcome);
    if (key !== undefined && failure && unstoredCodes.has(failure.code)) {
      this.keys.release(request.principal.tenantId, request.principal.userId, key);
      this.commit(action);
    } else if (key !== undefined) {
      const stored: StoredOutcome<T> = failure
        ? { ok: false, error: { code: failure.code, message: failure.message, ...(failure.details ? { details: failure.details } : {}) } }
        : { ok: true, result: outcome!.result, summary: outcome!.summary };
      this.commit(action, { key, outcome: JSON.stringify(redactOutcome(stored, this.options.secretKeys, request.arguments)) });
    } else {
      this.commit(action);
    }
    if (this.logger.isLevelEnabled('debug')) {
      this.logger.debug({ correlationId: request.correlationId, actionId: draft.id, operation: request.operation, actor: describePrincipal(request.principal), error: failure?.code }, 'action recorded');
    }

    if (failure) throw failure;
    return { actionId: draft.id, result: outcome!.result };
  }

  /** A call whose key this user used before: replay the first outcome, or refuse other arguments. Recorded either way. */
  private async answerRetry<T>(request: ActionRequest, draft: ActionDraft, timing: Timing, existing: IdempotencyRow, hash: string): Promise<LedgerResult<T>> {
    const original = existing.action_id ?? undefined;
    const replayed = await this.settle<T>(request, draft, timing, async () => {
      if (existing.request_hash !== hash || existing.operation !== request.operation) {
        throw new CodeBuddyError(
          'E_IDEMPOTENCY_MISMATCH',
          `idempotency_key ${request.idempotencyKey} was used for ${existing.operation} with other arguments; use a new key for a new call`,
          { field: 'idempotency_key' },
        );
      }
      if (existing.state === 'interrupted') {
        throw new CodeBuddyError(
          'E_OUTCOME_UNKNOWN',
          `the first call with idempotency_key ${request.idempotencyKey} was interrupted by a server restart and may or may not have taken effect; check the workspace, then retry with a new key`,
          { field: 'idempotency_key' },
        );
      }
      if (existing.state !== 'done') {
        // Only another process can hold a pending key: this one waits for its own first calls.
        throw new CodeBuddyError('E_CONFLICT', `a call with idempotency_key ${request.idempotencyKey} is still running; retry shortly`, { field: 'idempotency_key' });
      }
      const stored = JSON.parse(existing.outcome_json!) as StoredOutcome<T>;
      if (!stored.ok) throw new CodeBuddyError(stored.error.code, stored.error.message, { ...stored.error.details, replay_of: original });
      return { result: stored.result, summary: `replay of ${original}: ${stored.summary}` };
    });
    return original === undefined ? replayed : { ...replayed, replayOf: original };
  }

  private actionRow(request: ActionRequest, draft: ActionDraft, startedAt: number, durationMs: number, failure: CodeBuddyError | undefined, outcome: ActionOutcome<unknown> | undefined): ActionRow {
    return {
      tenant_id: request.principal.tenantId,
      id: draft.id,
      user_id: request.principal.userId,
      role: request.principal.role,
      workspace_id: draft.workspaceId,
      operation: request.operation,
      effect: request.effect,
      arguments_json: JSON.stringify(redactArguments(request.arguments, this.options.secretKeys) ?? null),
      status: failure ? 'failed' : (outcome?.status ?? 'succeeded'),
      result_summary: (failure ? failure.message : (outcome?.summary ?? '')).slice(0, 500),
      error_code: failure?.code ?? null,
      correlation_id: request.correlationId,
      started_at: startedAt,
      duration_ms: durationMs,
    };
  }

  private purgeExpiredNowAndThen(): void {
    if (++this.claimsSincePurge < 1000) return;
    this.claimsSincePurge = 0;
    this.keys.expireBefore(this.clock.now() - this.options.idempotencyTtlMs);
  }
}
