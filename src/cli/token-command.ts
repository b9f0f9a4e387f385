import type { App } from '../app.js';
import type { ApiTokenListing } from '../store/token-repository.js';
import { localPrincipal } from './serve-command.js';

const iso = (at: number | null) => (at === null ? '-' : new Date(at).toISOString());

/** One line per token, for `codebuddy token list`: never a secret or its hash. */
export function formatTokenList(tokens: readonly ApiTokenListing[]): string {
  if (tokens.length === 0) return 'no tokens';
  const rows = tokens.map((token) => [
    token.id,
    token.tenant_id,
    token.user_id,
    token.role,
    iso(token.created_at),
    iso(token.last_used_at),
    token.revoked_at === null ? 'active' : `revoked ${iso(token.revoked_at)}`,
    token.label ?? '',
  ]);
  const header = ['ID', 'TENANT', 'USER', 'ROLE', 'CREATED', 'LAST USED', 'STATUS', 'LABEL'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  return [header, ...rows].map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

/**
 * `codebuddy token revoke <id>`: at once for new requests; a running server also ends the
 * token's open MCP sessions within seconds. The revocation is recorded in the token's
 * tenant's audit chain, with the operator as actor.
 */
export function revokeToken(app: App, id: string): string {
  const revoked = app.tokens.revoke(id, `operator/${localPrincipal().userId}`);
  return `revoked ${revoked.id} (${revoked.tenant_id}/${revoked.user_id}, ${revoked.role})`;
}
