import type { ServerCapabilities } from 'vscode-languageserver-protocol';

/** Commands the facade itself executes (pending agent actions); never sent to a language server. */
export const FACADE_COMMANDS = ['codebuddy.approve', 'codebuddy.reject', 'codebuddy.diff', 'codebuddy.pending'] as const;

/**
 * Capabilities the facade answers for itself, whatever the servers say: documents are synced
 * whole (the facade keeps each editor's buffer and shows one to the server at a time);
 * diagnostics are pushed by the facade (the servers' merged with pending actions), so a
 * server's pull support is not advertised; code actions always exist (pending actions).
 */
const OWN_KEYS = new Set(['textDocumentSync', 'executeCommandProvider', 'diagnosticProvider', 'workspace', 'positionEncoding']);

/**
 * The union of what the workspace's servers advertise. A provider offered by any server is
 * offered; where two servers give options, trigger characters and commands are merged and
 * otherwise the first server's options stand (a request is routed to the server of its
 * document, which answers by its own options).
 */
export function unionCapabilities(servers: readonly ServerCapabilities[]): ServerCapabilities {
  const union: Record<string, unknown> = {};
  for (const capabilities of servers) {
    for (const [key, value] of Object.entries(capabilities)) {
      if (OWN_KEYS.has(key) || value === undefined || value === null || value === false) continue;
      union[key] = merge(union[key], value);
    }
  }
  const commands = servers.flatMap((capabilities) => capabilities.executeCommandProvider?.commands ?? []);
  return {
    ...union,
    positionEncoding: 'utf-16',
    textDocumentSync: { openClose: true, change: 1, save: { includeText: false } },
    codeActionProvider: merge(union.codeActionProvider, true) as ServerCapabilities['codeActionProvider'],
    executeCommandProvider: { commands: [...new Set([...FACADE_COMMANDS, ...commands])] },
    workspace: { workspaceFolders: { supported: true, changeNotifications: false } },
  };
}

function merge(previous: unknown, next: unknown): unknown {
  if (previous === undefined) return next;
  // `true` and options mean the same offer; the options say more.
  if (previous === true) return next;
  if (next === true) return previous;
  if (typeof previous !== 'object' || typeof next !== 'object' || previous === null || next === null) return previous;
  const out: Record<string, unknown> = { ...(next as Record<string, unknown>), ...(previous as Record<string, unknown>) };
  for (const key of ['triggerCharacters', 'allCommitCharacters', 'retriggerCharacters', 'codeActionKinds', 'moreTriggerCharacter']) {
    const a = (previous as Record<string, unknown>)[key];
    const b = (next as Record<string, unknown>)[key];
    if (Array.isArray(a) || Array.isArray(b)) out[key] = [...new Set([...(Array.isArray(a) ? a : []), ...(Array.isArray(b) ? b : [])])];
  }
  return out;
}
