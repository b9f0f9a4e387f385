import { statSync } from 'node:fs';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import type { App } from '../app.js';
import type { Principal } from '../auth/principal.js';
import type { Workspace } from '../workspaces/workspace.js';
import { messageEncoder } from '../faces/lsp/message-text.js';
import { keepServingOnStrayRejections, localPrincipal, startUpkeep } from './serve-command.js';

/**
 * On `codebuddy lsp` the caller is the person at the editor, who is the human in control:
 * the local OS user with the approver role (agents' commands run sandboxed and cannot start
 * this against the server's data directory).
 */
export function localApprover(): Principal {
  return { ...localPrincipal(), role: 'approver' };
}

/** A directory is adopted (the same one maps to the same workspace across runs); anything else names a workspace by id or name. */
async function workspaceOf(app: App, principal: Principal, reference: string | undefined): Promise<Workspace> {
  const path = reference ?? process.cwd();
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    // not a path: an id or a name
  }
  return isDirectory ? app.workspaces.adoptLocal(principal, path) : app.workspaces.resolve(principal, reference);
}

/** LSP on stdin/stdout for an editor that launches a command; logs go to stderr. */
export async function lspStdioCommand(app: App, reference: string | undefined): Promise<void> {
  keepServingOnStrayRejections(app);
  await startUpkeep(app);
  const principal = localApprover();
  const workspace = await workspaceOf(app, principal, reference);
  const connection = createMessageConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout, { contentTypeEncoder: messageEncoder }));
  app.logger.info({ workspace: workspace.name, root: workspace.root }, 'codebuddy serving LSP on stdio');
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    app.lsp.close();
    await app.languageServers.close();
    app.close();
    process.exit(0);
  };
  // The editor's `exit` (or its closing our stdin) ends the process.
  app.lsp.connect(connection, principal, workspace).onClosed = () => void close();
  process.once('SIGINT', () => void close());
  process.once('SIGTERM', () => void close());
}
