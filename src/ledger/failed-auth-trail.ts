import { createHmac, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Db } from '../store/database.js';
import type { AuditChain, AuditEventInput } from './audit-chain.js';

/**
 * The audit chain of events that belong to no tenant. Failed authentications have no
 * principal and no tenant, so they cannot go in a tenant's chain (that would let anyone
 * write into a tenant's trail by naming it in a forged JWT). A separate table would need
 * its own verification and export; a chain of its own gets both from `AuditChain`, and
 * `codebuddy audit verify` / `audit export` cover it like any tenant. The name starts with
 * `_`, which no tenant id may, so no tenant can ever read or write it.
 */
export const SYSTEM_CHAIN = '_system';

export interface FailedAuthentication {
  /** The client's address. */
  source: string;
  method: string;
  /** The route pattern (or path), never the query: `?token=` carries credentials. */
  route: string;
  /** The presented bearer credential, if any: only its fingerprint is stored. */
  credential: string | undefined;
  /** The public id of an API-token-shaped credential, if it has one. */
  tokenId: string | undefined;
  reason: string;
}

export interface FailedAuthLimits {
  /** Events recorded per source address per window; further ones are only counted. */
  perSource: number;
  /** Events recorded per window from all sources together (many addresses, one flood). */
  total: number;
  windowMs: number;
}

const DEFAULT_LIMITS: FailedAuthLimits = { perSource: 10, total: 200, windowMs: 60_000 };

/**
 * Records failed authentications in the system chain, bounded so that a flood cannot fill
 * the database: per fixed window, at most `perSource` events per address and `total` in all;
 * the rest are counted and written as one summary event when the window ends.
 */
export class FailedAuthTrail {
  private readonly append: (event: AuditEventInput) => void;
  /**
   * Fingerprints are keyed with a secret of this process: they let an operator see that the
   * same credential was tried again, but, unlike a plain hash, cannot be checked against a
   * guessed password or token by anyone who reads the database.
   */
  private readonly fingerprintKey = randomBytes(32);
  private windowStart = 0;
  private recorded = 0;
  private suppressed = 0;
  private readonly bySource = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    db: Db,
    audit: AuditChain,
    private readonly clock: Clock,
    private readonly limits: FailedAuthLimits = DEFAULT_LIMITS,
  ) {
    this.append = db.transaction((event: AuditEventInput) => void audit.append(event));
    this.timer = setInterval(() => this.rollWindow(this.clock.now()), limits.windowMs).unref();
  }

  record(attempt: FailedAuthentication): void {
    const now = this.clock.now();
    if (now - this.windowStart >= this.limits.windowMs) this.rollWindow(now);
    const fromSource = (this.bySource.get(attempt.source) ?? 0) + 1;
    this.bySource.set(attempt.source, fromSource);
    if (fromSource > this.limits.perSource || this.recorded >= this.limits.total) {
      this.suppressed++;
      return;
    }
    this.recorded++;
    this.append({
      tenantId: SYSTEM_CHAIN,
      at: now,
      type: 'auth.failed',
      actor: `anonymous@${attempt.source}`,
      workspaceId: null,
      actionId: null,
      correlationId: null,
      payload: {
        source: attempt.source,
        method: attempt.method,
        route: attempt.route.slice(0, 200),
        reason: attempt.reason.slice(0, 200),
        ...(attempt.credential ? { credential_fingerprint: this.fingerprint(attempt.credential) } : {}),
        ...(attempt.tokenId ? { token_id: attempt.tokenId } : {}),
      },
    });
  }

  /** Writes the summary of the current window, if anything was left out of it. */
  close(): void {
    clearInterval(this.timer);
    this.rollWindow(this.clock.now());
  }

  private rollWindow(now: number): void {
    if (this.suppressed > 0) {
      this.append({
        tenantId: SYSTEM_CHAIN,
        at: now,
        type: 'auth.failed.summary',
        actor: 'server',
        workspaceId: null,
        actionId: null,
        correlationId: null,
        payload: { window_start: this.windowStart, window_end: now, recorded: this.recorded, not_recorded: this.suppressed, sources: this.bySource.size },
      });
    }
    this.windowStart = now;
    this.recorded = 0;
    this.suppressed = 0;
    this.bySource.clear();
  }

  private fingerprint(credential: string): string {
    return createHmac('sha256', this.fingerprintKey).update(credential).digest('hex').slice(0, 12);
  }
}
