import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey, type JWTPayload } from 'jose';
import { CodeBuddyError } from '../core/errors.js';
import type { Config } from '../config/config-schema.js';
import type { TenantRepository } from '../store/tenant-repository.js';
import type { Clock } from '../core/clock.js';
import { roles, tenantIdSchema, userIdSchema, type Principal, type Role } from './principal.js';
import { TokenService } from './token-service.js';

/**
 * Turns a bearer credential into a principal: an API token issued by the CLI, or a JWT
 * (HS256 with `jwtSecret`, or any JWKS key with `jwtJwksUrl`) carrying `sub`, `tenant`
 * and optionally `role` (default `agent`).
 */
export class Authenticator {
  private readonly jwtKey: Uint8Array | JWTVerifyGetKey | undefined;

  constructor(
    private readonly config: Pick<Config, 'jwtSecret' | 'jwtJwksUrl' | 'jwtIssuer' | 'jwtAudience'>,
    private readonly tokens: TokenService,
    private readonly tenants: TenantRepository,
    private readonly clock: Clock,
  ) {
    if (config.jwtJwksUrl) this.jwtKey = createRemoteJWKSet(new URL(config.jwtJwksUrl));
    else if (config.jwtSecret) this.jwtKey = new TextEncoder().encode(config.jwtSecret);
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw new CodeBuddyError('E_UNAUTHENTICATED', 'Authorization: Bearer <token> is required.');
    const credential = match[1]!;

    if (TokenService.looksLikeApiToken(credential)) {
      const principal = this.tokens.verify(credential);
      if (!principal) throw new CodeBuddyError('E_UNAUTHENTICATED', 'The API token is invalid or revoked.');
      return principal;
    }
    if (!this.jwtKey) throw new CodeBuddyError('E_UNAUTHENTICATED', 'The token is not an API token and JWT verification is not configured.');
    const principal = principalFromClaims(await this.verifyJwt(credential));
    this.tenants.ensure(principal.tenantId, this.clock.now());
    return principal;
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
      // jose overloads on the key's kind (a secret or a key-set resolver), so the call is split on it.
      const key = this.jwtKey!;
      const { payload } = typeof key === 'function' ? await jwtVerify(jwt, key, options) : await jwtVerify(jwt, key, options);
      return payload;
    } catch (error) {
      throw new CodeBuddyError('E_UNAUTHENTICATED', `The JWT was refused: ${(error as Error).message}`);
    }
  }
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
