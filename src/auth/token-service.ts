import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { IdGenerator } from '../core/ids.js';
import type { TenantRepository } from '../store/tenant-repository.js';
import type { TokenRepository } from '../store/token-repository.js';
import type { Principal, Role } from './principal.js';

const TOKEN_PATTERN = /^cb_(tok_[0-9a-z]{26})_([A-Za-z0-9_-]{43})$/;

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/**
 * API tokens issued by the CLI: `cb_<id>_<secret>`. Only the secret's sha256 is
 * stored, so the database never holds a usable token.
 */
export class TokenService {
  constructor(
    private readonly tokens: TokenRepository,
    private readonly tenants: TenantRepository,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
  ) {}

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

  /** The principal of a valid, unrevoked token; undefined for anything else. */
  verify(token: string): Principal | undefined {
    const match = TOKEN_PATTERN.exec(token);
    if (!match) return undefined;
    const row = this.tokens.findById(match[1]!);
    if (!row || row.revoked_at !== null) return undefined;
    const expected = Buffer.from(row.secret_hash, 'hex');
    const actual = Buffer.from(hashSecret(match[2]!), 'hex');
    if (!timingSafeEqual(expected, actual)) return undefined;
    return { tenantId: row.tenant_id, userId: row.user_id, role: row.role };
  }

  hasAny(tenantId: string): boolean {
    return this.tokens.countForTenant(tenantId) > 0;
  }

  static looksLikeApiToken(token: string): boolean {
    return token.startsWith('cb_');
  }
}
