/**
 * Where a CodeBuddy server's routes are, from the URL a user pastes: the banner prints the MCP
 * endpoint (`…/mcp`), and REST (`/api/ops`) and the LSP socket (`/lsp`) live beside it.
 * Pure (no `vscode` import).
 */
export function serverBase(serverUrl: string): URL {
  const url = new URL(serverUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`codebuddy.serverUrl must be http(s), not ${url.protocol}`);
  url.pathname = url.pathname.replace(/\/mcp\/?$/, '').replace(/\/+$/, '');
  url.search = '';
  url.hash = '';
  return url;
}

/** A route below the server's base: `route` has no leading slash, its segments already encoded. */
export function serverRoute(serverUrl: string, route: string): URL {
  const url = serverBase(serverUrl);
  // The base's path is `/` for a server at the root, which a URL never leaves empty.
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${route}`;
  return url;
}

/** `https://host/base` + workspace → `wss://host/base/lsp/<workspace>` (http → ws). */
export function lspSocketUrl(serverUrl: string, workspace: string): string {
  const url = serverRoute(serverUrl, `lsp/${encodeURIComponent(workspace)}`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}
