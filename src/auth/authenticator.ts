import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { CodeBuddyError } from '../core/errors.js';
import type { Config } from '../config/config-schema.js';
import type { TenantRepository } from '../store/tenant-repository.js';
import type { Clock } from '../core/clock.js';
import type { Authenticated, Credential } from './credential.js';
import { roles, tenantIdSchema, userIdSchema, type Principal, type Role } from './principal.js';
import { TokenService } from './token-service.js';

/**
 * Turns a bearer credential into a principal: an API token issued by the CLI, or a JWT
 * (HS256 with `jwtSecret`, or any JWKS key with `jwtJwksUrl`) carrying `sub`, `tenant`
 * and optionally `role` (default `agent`). A JWT may live at most `jwtMaxLifetimeSeconds`:
 * a leaked long-lived JWT cannot be revoked, so one that claims to be valid for a century is refused.
 */
export class Authenticator {
  /** Made on the first JWT: jose (46 modules) is loaded only where JWTs arrive, never for API tokens or stdio. */
  private jwtKey: Uint8Array | JWTVerifyGetKey | undefined;

  constructor(
    private readonly config: Pick<Config, 'jwtSecret' | 'jwtJwksUrl' | 'jwtIssuer' | 'jwtAudience' | 'jwtMaxLifetimeSeconds'>,
    private readonly tokens: TokenService,
    private readonly tenants: TenantRepository,
    private readonly clock: Clock,
  ) {}

  async authenticate(authorization: string | undefined): Promise<Authenticated> {
    const credential = bearerOf(authorization);
    if (!credential) throw new CodeBuddyError('E_UNAUTHENTICATED', 'Authorization: Bearer <token> is required.');

    if (TokenService.looksLikeApiToken(credential)) {
      const token = this.tokens.verify(credential);
      if (!token) throw new CodeBuddyError('E_UNAUTHENTICATED', 'The API token is invalid or revoked.');
      return { principal: token.principal, credential: { key: `token:${token.id}`, tokenId: token.id } };
    }
    if (!this.config.jwtJwksUrl && !this.config.jwtSecret) throw new CodeBuddyError('E_UNAUTHENTICATED', 'The token is not an API token and JWT verification is not configured.');
    const claims = await this.verifyJwt(credential);
    const principal = principalFromClaims(claims);
    this.tenants.ensure(principal.tenantId, this.clock.now());
    return { principal, credential: { key: `jwt:${claims.iss ?? ''}\u0000${principal.userId}`, expiresAt: claims.exp! * 1000 } };
  }

  /** Whether a credential that authenticated earlier still would: not revoked, not expired. */
  isCurrent(credential: Credential): boolean {
    if (credential.expiresAt !== undefined && credential.expiresAt <= this.clock.now()) return false;
    return credential.tokenId === undefined || !this.tokens.isRevoked(credential.tokenId);
  }

  private async verifyJwt(jwt: string): Promise<JWTPayload> {
    // A token without an expiry would be valid forever once leaked: `exp` is required.
    const options = {
      requiredClaims: ['exp'],
      ...(this.config.jwtIssuer ? { issuer: this.config.jwtIssuer } : {}),
      ...(this.config.jwtAudience ? { audience: this.config.jwtAudience } : {}),
      ...(this.config.jwtSecret && !this.config.jwtJwksUrl ? { algorithms: ['HS256'] } : {}),
    };
    try {
      const { createRemoteJWKSet, jwtVerify } = await import('jose');
      const { jwtJwksUrl, jwtSecret } = this.config;
      // One key set for the process: it caches the keys it fetched.
      this.jwtKey ??= jwtJwksUrl ? createRemoteJWKSet(new URL(jwtJwksUrl)) : new TextEncoder().encode(jwtSecret);
      const key = this.jwtKey;
      // jose overloads on the key's kind (a secret or a key-set resolver), so the call is split on it.
      const { payload } = typeof key === 'function' ? await jwtVerify(jwt, key, options) : await jwtVerify(jwt, key, options);
      this.checkLifetime(payload);
      return payload;
    } catch (error) {
      throw new CodeBuddyError('E_UNAUTHENTICATED', `The JWT was refused: ${(error as Error).message}`);
    }
  }

  /**
   * Both the lifetime it was issued with (`exp - iat`) and what is left of it (`exp - now`)
   * must be within the maximum: checking only `iat` would let a token issued "in the future"
   * through, checking only now would let an old long-lived token through near its end.
   */
  private checkLifetime(payload: JWTPayload): void {
    const max = this.config.jwtMaxLifetimeSeconds;
    const now = Math.floor(this.clock.now() / 1000);
    const exp = payload.exp!;
    if (exp - now > max || (payload.iat !== undefined && exp - payload.iat > max)) {
      throw new Error(`its lifetime exceeds the ${max} s this server accepts (jwtMaxLifetimeSeconds)`);
    }
  }
}

/** The credential of `Authorization: Bearer <credential>`, or undefined for anything else. */
export function bearerOf(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
}

function principalFromClaims(claims: JWTPayload): Principal {
  const tenant = tenantIdSchema.safeParse(claims.tenant);
  const user = userIdSchema.safeParse(claims.sub);
  const role = claims.role ?? 'agent';
  if (!tenant.success) throw new CodeBuddyError('E_UNAUTHENTICATED', 'The JWT needs a `tenant` claim (lower-case letters, digits, _ and -).');
  if (!user.success) throw new CodeBuddyError('E_UNAUTHENTICATED', 'The JWT needs a `sub` claim naming the user.');
  if (!roles.includes(role as Role)) throw new CodeBuddyError('E_UNAUTHENTICATED', `The JWT's role must be one of ${roles.join(', ')}.`);
  return { tenantId: tenant.data, userId: user.data, role: role as Role };
}
