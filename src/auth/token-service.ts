import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { CodeBuddyError } from '../core/errors.js';
import type { IdGenerator } from '../core/ids.js';
import type { AuditChain } from '../ledger/audit-chain.js';
import type { Db } from '../store/database.js';
import type { TenantRepository } from '../store/tenant-repository.js';
import type { ApiTokenListing, TokenRepository } from '../store/token-repository.js';
import type { Principal, Role } from './principal.js';

const TOKEN_PATTERN = /^cb_(tok_[0-9a-z]{26})_([A-Za-z0-9_-]{43})$/;
/** `last_used_at` is for a human deciding what to revoke: minute precision spares a write per request. */
const LAST_USED_PRECISION_MS = 60_000;

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/**
 * API tokens issued by the CLI: `cb_<id>_<secret>`. Only the secret's sha256 is
 * stored, so the database never holds a usable token. The id is not secret: listings,
 * revocation and the audit trail name tokens by it.
 */
export class TokenService {
  private readonly lastTouched = new Map<string, number>();
  private readonly revokeAndRecord: (id: string, actor: string) => ApiTokenListing | undefined;

  constructor(
    private readonly tokens: TokenRepository,
    private readonly tenants: TenantRepository,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    db: Db,
    audit: AuditChain,
  ) {
    // The revocation and its audit event commit together: a revoked token always has its record.
    this.revokeAndRecord = db.transaction((id: string, actor: string) => {
      const at = this.clock.now();
      if (!this.tokens.revoke(id, at)) return undefined;
      const { secret_hash: _hash, ...listing } = this.tokens.findById(id)!;
      audit.append({ tenantId: listing.tenant_id, at, type: 'token.revoked', actor, workspaceId: null, actionId: null, correlationId: null, payload: { token_id: id, user_id: listing.user_id, role: listing.role } });
      return listing;
    });
  }

  create(input: { tenantId: string; userId: string; role: Role; label?: string }): { id: string; token: string } {
    const id = this.ids.next('tok');
    const secret = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    this.tenants.ensure(input.tenantId, now);
    this.tokens.insert({
      id,
      tenant_id: input.tenantId,
      user_id: input.userId,
      role: input.role,
      secret_hash: hashSecret(secret),
      label: input.label ?? null,
      created_at: now,
    });
    return { id, token: `cb_${id}_${secret}` };
  }

  /** The id and principal of a valid, unrevoked token; undefined for anything else. */
  verify(token: string): { id: string; principal: Principal } | undefined {
    const match = TOKEN_PATTERN.exec(token);
    if (!match) return undefined;
    const row = this.tokens.findById(match[1]!);
    if (!row || row.revoked_at !== null) return undefined;
    const expected = Buffer.from(row.secret_hash, 'hex');
    const actual = Buffer.from(hashSecret(match[2]!), 'hex');
    if (!timingSafeEqual(expected, actual)) return undefined;
    this.markUsed(row.id);
    return { id: row.id, principal: { tenantId: row.tenant_id, userId: row.user_id, role: row.role } };
  }

  /** Every token (or a tenant's), without secrets or hashes. */
  list(tenantId?: string): ApiTokenListing[] {
    return this.tokens.list(tenantId);
  }

  /** Revokes a token and records it in its tenant's audit chain. Revoking twice is refused, not repeated. */
  revoke(id: string, actor: string): ApiTokenListing {
    const revoked = this.revokeAndRecord(id, actor);
    if (revoked) return revoked;
    const existing = this.tokens.findById(id);
    if (!existing) throw new CodeBuddyError('E_NOT_FOUND', `no token ${id}`);
    throw new CodeBuddyError('E_CONFLICT', `token ${id} was revoked already, at ${new Date(existing.revoked_at!).toISOString()}`);
  }

  isRevoked(id: string): boolean {
    return this.tokens.isRevokedOrMissing(id);
  }

  hasAny(tenantId: string): boolean {
    return this.tokens.countForTenant(tenantId) > 0;
  }

  private markUsed(id: string): void {
    const now = this.clock.now();
    if (now - (this.lastTouched.get(id) ?? 0) < LAST_USED_PRECISION_MS) return;
    this.lastTouched.set(id, now);
    this.tokens.touch(id, now);
  }

  static looksLikeApiToken(token: string): boolean {
    return token.startsWith('cb_');
  }

  /** The (public) id part of something shaped like an API token, to name it in the audit trail. */
  static idOf(token: string): string | undefined {
    return TOKEN_PATTERN.exec(token)?.[1];
  }
}
