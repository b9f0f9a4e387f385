import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Authenticated } from '../../auth/credential.js';
import type { Principal } from '../../auth/principal.js';

/** The SDK carries `authInfo` through untouched: the authenticated principal and credential ride in it. */
export function authInfoFor(authenticated: Authenticated, token: string): AuthInfo {
  const { principal } = authenticated;
  return { token, clientId: principal.userId, scopes: [principal.role], extra: { authenticated } };
}

export function authenticatedOf(authInfo: AuthInfo | undefined): Authenticated {
  const authenticated = authInfo?.extra?.authenticated as Authenticated | undefined;
  // The HTTP face authenticates before any MCP handling; reaching here without one is a wiring bug.
  if (!authenticated) throw new Error('MCP request reached the server without an authenticated principal');
  return authenticated;
}

export function principalOf(authInfo: AuthInfo | undefined): Principal {
  return authenticatedOf(authInfo).principal;
}
