import type { Principal } from './principal.js';

/**
 * The credential a request presented, as far as anything after authentication needs it.
 * `key` names the credential itself, not just the user: an API token's id, or a JWT's
 * issuer and subject. A session opened with one credential answers only to that
 * credential with the same tenant and role, so another token of the same user (an agent
 * token beside an approver token) cannot ride it.
 */
export interface Credential {
  key: string;
  /** For API tokens: the token id, checked again for revocation while a session lives. */
  tokenId?: string;
  /** For JWTs: when it expires (ms), after which its sessions end too. */
  expiresAt?: number;
}

export interface Authenticated {
  principal: Principal;
  credential: Credential;
}

/** What a session is bound to: the credential, plus the tenant and role it asserted. */
export function bindingOf({ principal, credential }: Authenticated): string {
  return [credential.key, principal.tenantId, principal.role].join('\u0000');
}
