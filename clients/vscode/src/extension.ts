import * as vscode from 'vscode';
import { LanguageClient, State, type LanguageClientOptions, type MessageTransports, type ServerOptions } from 'vscode-languageclient/node';
import WebSocket from 'ws';
// The server's own transport (one JSON-RPC message per WebSocket frame), compiled into the extension: one implementation for both ends.
import { SocketMessageReader, SocketMessageWriter } from '../../../src/faces/lsp/socket-transport';
import { closeReason, statusText, type ConnectionState } from './connection-state';
import { targetOf, type Settings, type Target } from './connection-target';

const TOKEN_KEY = 'codebuddy.token';

interface PendingAction {
  id: string;
  operation: string;
  requested_by: string;
  preview?: string;
}

let client: LanguageClient | undefined;
let state: ConnectionState = { state: 'disconnected' };

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  status.command = 'codebuddy.connect';
  const show = (next: ConnectionState) => {
    state = next;
    const { text, tooltip } = statusText(state);
    status.text = text;
    status.tooltip = tooltip;
    status.show();
  };
  show({ state: 'disconnected' });

  const pending = new PendingActionsView();
  context.subscriptions.push(status, vscode.window.registerTreeDataProvider('codebuddy.pending', pending));

  const connect = async () => {
    await client?.stop().catch(() => undefined);
    const settings = vscode.workspace.getConfiguration('codebuddy');
    const target = targetOf(
      { mode: settings.get('mode', 'local'), command: settings.get('command', 'codebuddy'), serverUrl: settings.get('serverUrl', ''), workspace: settings.get('workspace', '') } satisfies Settings,
      vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
      await context.secrets.get(TOKEN_KEY),
    );
    if (target.kind === 'unconfigured') return show({ state: 'failed', reason: target.reason });
    const described = target.kind === 'local' ? `${target.command} ${target.args.join(' ')}` : target.url;
    show({ state: 'connecting', target: described });
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }, { scheme: 'codebuddy' }],
      outputChannelName: 'CodeBuddy',
    };
    client = new LanguageClient('codebuddy', 'CodeBuddy', serverOptions(target, (reason) => show({ state: 'failed', reason })), clientOptions);
    client.onDidChangeState((change) => {
      if (change.newState === State.Running) show({ state: 'connected', target: described, pending: pending.count });
      else if (change.newState === State.Stopped && state.state !== 'failed') show({ state: 'disconnected' });
    });
    client.onNotification('codebuddy/actionChanged', () => void pending.refresh());
    client.onNotification('codebuddy/fileChanged', (params: { uri: string; actionId?: string }) => {
      void vscode.window.showInformationMessage(`${vscode.Uri.parse(params.uri).path} changed on disk${params.actionId ? ` (agent action ${params.actionId})` : ''}.`);
    });
    pending.onCount = (count) => state.state === 'connected' && show({ ...state, pending: count });
    await client.start();
    pending.client = client;
    await pending.refresh();
  };

  const run = (command: string, ...args: unknown[]) => client?.sendRequest('workspace/executeCommand', { command, arguments: args });
  context.subscriptions.push(
    vscode.commands.registerCommand('codebuddy.connect', () => connect().catch((error: Error) => show({ state: 'failed', reason: error.message }))),
    vscode.commands.registerCommand('codebuddy.disconnect', async () => {
      await client?.stop();
      client = undefined;
      show({ state: 'disconnected' });
    }),
    vscode.commands.registerCommand('codebuddy.setToken', async () => {
      const token = await vscode.window.showInputBox({ prompt: 'A CodeBuddy API token (approver role to approve from here)', password: true, ignoreFocusOut: true });
      if (token) await context.secrets.store(TOKEN_KEY, token);
    }),
    vscode.commands.registerCommand('codebuddy.refreshPending', () => pending.refresh()),
    vscode.commands.registerCommand('codebuddy.showDiff', async (item: PendingItem) => {
      const action = (await run('codebuddy.diff', item.action.id)) as PendingAction | undefined;
      const document = await vscode.workspace.openTextDocument({ language: 'diff', content: action?.preview ?? '(no preview)' });
      await vscode.window.showTextDocument(document, { preview: true });
    }),
    vscode.commands.registerCommand('codebuddy.approveItem', async (item: PendingItem) => {
      await run('codebuddy.approve', item.action.id);
      await pending.refresh();
    }),
    vscode.commands.registerCommand('codebuddy.rejectItem', async (item: PendingItem) => {
      const reason = await vscode.window.showInputBox({ prompt: `Why reject ${item.action.operation}? (optional)` });
      await run('codebuddy.reject', item.action.id, ...(reason ? [reason] : []));
      await pending.refresh();
    }),
  );
  await connect().catch((error: Error) => show({ state: 'failed', reason: error.message }));
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}

/** A local `codebuddy lsp` over stdio, or the remote facade over a WebSocket (the token in a header, never in the URL). */
function serverOptions(target: Exclude<Target, { kind: 'unconfigured' }>, failed: (reason: string) => void): ServerOptions {
  if (target.kind === 'local') return { command: target.command, args: target.args };
  return () =>
    new Promise<MessageTransports>((resolve, reject) => {
      const socket = new WebSocket(target.url, { headers: target.headers });
      socket.once('open', () => resolve({ reader: new SocketMessageReader(socket), writer: new SocketMessageWriter(socket) }));
      socket.once('error', (error) => reject(error));
      socket.on('close', (code, reason) => {
        const closed = closeReason(code, reason.toString());
        if (!closed.retry) failed(closed.message);
      });
    });
}

class PendingItem extends vscode.TreeItem {
  constructor(readonly action: PendingAction) {
    super(`${action.operation} ${action.id}`, vscode.TreeItemCollapsibleState.None);
    this.description = action.requested_by;
    this.contextValue = 'pendingAction';
    this.command = { command: 'codebuddy.showDiff', title: 'Show Diff', arguments: [this] };
  }
}

/** Held agent actions of the workspace, from the facade's `codebuddy.pending` command (the registry's action_list). */
class PendingActionsView implements vscode.TreeDataProvider<PendingItem> {
  client: LanguageClient | undefined;
  count = 0;
  onCount: (count: number) => void = () => undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private items: PendingItem[] = [];

  async refresh(): Promise<void> {
    const answer = (await this.client?.sendRequest('workspace/executeCommand', { command: 'codebuddy.pending', arguments: [] }).catch(() => undefined)) as { actions?: PendingAction[] } | undefined;
    this.items = (answer?.actions ?? []).map((action) => new PendingItem(action));
    this.count = this.items.length;
    this.onCount(this.count);
    this.changed.fire();
  }

  getTreeItem(item: PendingItem): vscode.TreeItem {
    return item;
  }

  getChildren(): PendingItem[] {
    return this.items;
  }
}
