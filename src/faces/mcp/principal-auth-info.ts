import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Principal } from '../../auth/principal.js';

/** The SDK carries `authInfo` through untouched: the authenticated principal rides in it. */
export function authInfoFor(principal: Principal, token: string): AuthInfo {
  return { token, clientId: principal.userId, scopes: [principal.role], extra: { principal } };
}

export function principalOf(authInfo: AuthInfo | undefined): Principal {
  const principal = authInfo?.extra?.principal as Principal | undefined;
  // The HTTP face authenticates before any MCP handling; reaching here without one is a wiring bug.
  if (!principal) throw new Error('MCP request reached the server without an authenticated principal');
  return principal;
}
