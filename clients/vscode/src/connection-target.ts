import { lspSocketUrl } from './server-url';

/**
 * Where the extension connects, from its settings and the opened folder: a local
 * `codebuddy lsp` over stdio, or a remote server's `/lsp/:workspace` WebSocket. Pure (no
 * `vscode` import), so it is unit-tested outside VS Code.
 */
export interface Settings {
  mode: 'local' | 'remote';
  command: string;
  serverUrl: string;
  workspace: string;
}

/** The first folder VS Code has open: a local directory, or a remote workspace (`codebuddy://<workspace>/`). */
export type OpenedFolder = { scheme: 'file'; path: string } | { scheme: 'codebuddy'; workspace: string } | undefined;

export type Target =
  | { kind: 'local'; command: string; args: string[]; folder: string }
  | { kind: 'remote'; url: string; headers: Record<string, string>; workspace: string }
  | { kind: 'unconfigured'; reason: string };

/**
 * A `codebuddy:` folder is remote whatever the mode says (its files are on the server); it
 * names its workspace. The token goes in a bearer header, never in the URL (where proxies and
 * logs would keep it).
 */
export function targetOf(settings: Settings, folder: OpenedFolder, token: string | undefined): Target {
  const remote = folder?.scheme === 'codebuddy' || settings.mode === 'remote';
  if (!remote) {
    if (folder?.scheme !== 'file') return { kind: 'unconfigured', reason: 'open a folder: local mode serves the opened folder' };
    return { kind: 'local', command: settings.command || 'codebuddy', args: ['lsp', '--workspace', folder.path], folder: folder.path };
  }
  const workspace = folder?.scheme === 'codebuddy' ? folder.workspace : settings.workspace;
  if (!settings.serverUrl) return { kind: 'unconfigured', reason: 'set codebuddy.serverUrl' };
  if (!workspace) return { kind: 'unconfigured', reason: 'set codebuddy.workspace (an id or a name) or open a remote workspace' };
  if (!token) return { kind: 'unconfigured', reason: 'run "CodeBuddy: Set Token for the Remote Server"' };
  return { kind: 'remote', url: lspSocketUrl(settings.serverUrl, workspace), headers: { authorization: `Bearer ${token}` }, workspace };
}

/** A readable name for the target, for the status bar (never the token). */
export function describeTarget(target: Exclude<Target, { kind: 'unconfigured' }>): string {
  return target.kind === 'local' ? `${target.command} ${target.args.join(' ')}` : target.url;
}
