/**
 * Where the extension connects, from its settings: a local `codebuddy lsp` over stdio, or a
 * remote server's `/lsp/:workspace` WebSocket. Pure (no `vscode` import), so it is unit-tested
 * outside VS Code.
 */
export interface Settings {
  mode: 'local' | 'remote';
  command: string;
  serverUrl: string;
  workspace: string;
}

export type Target =
  | { kind: 'local'; command: string; args: string[] }
  | { kind: 'remote'; url: string; headers: Record<string, string> }
  | { kind: 'unconfigured'; reason: string };

/** The target for a folder (local mode adopts it) and a token (remote mode; sent as a bearer header, never in the URL). */
export function targetOf(settings: Settings, folder: string | undefined, token: string | undefined): Target {
  if (settings.mode === 'local') {
    if (!folder) return { kind: 'unconfigured', reason: 'open a folder: local mode serves the opened folder' };
    return { kind: 'local', command: settings.command || 'codebuddy', args: ['lsp', '--workspace', folder] };
  }
  if (!settings.serverUrl) return { kind: 'unconfigured', reason: 'set codebuddy.serverUrl' };
  if (!settings.workspace) return { kind: 'unconfigured', reason: 'set codebuddy.workspace (an id or a name)' };
  if (!token) return { kind: 'unconfigured', reason: 'run "CodeBuddy: Set Token for the Remote Server"' };
  return { kind: 'remote', url: lspSocketUrl(settings.serverUrl, settings.workspace), headers: { authorization: `Bearer ${token}` } };
}

/** `https://host/base` + workspace → `wss://host/base/lsp/<workspace>` (http → ws). */
export function lspSocketUrl(serverUrl: string, workspace: string): string {
  const url = new URL(serverUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`codebuddy.serverUrl must be http(s), not ${url.protocol}`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  // A server URL copied from the banner ends in /mcp: the facade lives beside it.
  const base = url.pathname.replace(/\/mcp\/?$/, '').replace(/\/+$/, '');
  url.pathname = `${base}/lsp/${encodeURIComponent(workspace)}`;
  url.search = '';
  url.hash = '';
  return url.href;
}
