import * as vscode from 'vscode';
import { State, type LanguageClient } from 'vscode-languageclient/node';
import { SCHEME } from './codebuddy-uri';
import { initialState, shouldRestart, statusText, transition, type ConnectionEvent, type ConnectionState } from './connection-state';
import { describeTarget, targetOf, type OpenedFolder, type Settings } from './connection-target';
import { CodeBuddyFileSystem, workspaceRootUri } from './file-system-provider';
import { createLanguageClient, LspPendingActions } from './language-client';
import { RestPendingActions, type PendingActions } from './pending-actions';
import { PendingActionsView, showPreview, type PendingItem } from './pending-actions-view';
import { RestClient, type PendingApproval } from './rest-client';
import { serverBase } from './server-url';

let client: LanguageClient | undefined;

function settings(): Settings {
  const config = vscode.workspace.getConfiguration('codebuddy');
  return { mode: config.get<'local' | 'remote'>('mode', 'local'), command: config.get('command', 'codebuddy'), serverUrl: config.get('serverUrl', ''), workspace: config.get('workspace', '') };
}

function openedFolder(): OpenedFolder {
  const uri = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (uri?.scheme === 'file') return { scheme: 'file', path: uri.fsPath };
  if (uri?.scheme === SCHEME) return { scheme: 'codebuddy', workspace: uri.authority };
  return undefined;
}

/** One token per server (by origin), in VS Code's SecretStorage, never in settings. */
function tokenKey(serverUrl: string): string {
  return `codebuddy.token:${serverBase(serverUrl).origin}`;
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const token = async (): Promise<string | undefined> => {
    const { serverUrl } = settings();
    return serverUrl ? context.secrets.get(tokenKey(serverUrl)) : undefined;
  };
  const rest = (): RestClient | undefined => {
    const { serverUrl } = settings();
    return serverUrl ? new RestClient({ serverUrl, token, fetch: (url, init) => fetch(url, init) }) : undefined;
  };
  const pendingSource = (): PendingActions | string => {
    const restClient = rest();
    if (restClient) return new RestPendingActions(restClient);
    if (client?.state === State.Running) return new LspPendingActions(client);
    return 'Connect (CodeBuddy: Connect) or set codebuddy.serverUrl to see pending actions.';
  };

  // The status bar follows the connection's state machine.
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  status.command = 'codebuddy.connect';
  let state: ConnectionState = initialState;
  const dispatch = (event: ConnectionEvent): ConnectionState => {
    state = transition(state, event);
    const { text, tooltip } = statusText(state);
    status.text = text;
    status.tooltip = tooltip;
    status.show();
    return state;
  };
  dispatch({ type: 'disconnect' });

  const view = new PendingActionsView(pendingSource, (count) => {
    tree.message = view.message;
    dispatch({ type: 'pending', count });
  });
  const tree = vscode.window.createTreeView('codebuddy.pending', { treeDataProvider: view });
  const refresh = () => view.refresh();

  const held = (what: string, pending: PendingApproval) => {
    void refresh();
    void vscode.window
      .showInformationMessage(`${what} is pending approval (${pending.action_id}, expires ${pending.expires_at}); it applies once approved.`, 'Show Diff')
      .then(async (choice) => {
        const source = pendingSource();
        if (choice === 'Show Diff' && typeof source !== 'string') await showPreview(source, pending.action_id);
      });
  };
  const files = new CodeBuddyFileSystem(rest, held);

  const stop = async () => {
    const running = client;
    client = undefined;
    await running?.stop().catch(() => undefined);
  };
  const connect = async () => {
    dispatch({ type: 'disconnect' });
    await stop();
    const target = targetOf(settings(), openedFolder(), await token());
    if (target.kind === 'unconfigured') return void dispatch({ type: 'error', message: target.reason });
    dispatch({ type: 'connect', target: describeTarget(target) });
    const started = createLanguageClient(target, { closed: (code, reason) => shouldRestart(dispatch({ type: 'closed', ...(code === undefined ? {} : { code }), reason })) });
    client = started;
    started.onDidChangeState((change) => {
      if (change.newState === State.Running && client === started) dispatch({ type: 'running' });
    });
    started.onNotification('codebuddy/actionChanged', () => void refresh());
    started.onNotification('codebuddy/fileChanged', (params: { uri: string; deleted?: boolean; actionId?: string }) => {
      const uri = vscode.Uri.parse(params.uri);
      files.announce(uri, params.deleted === true);
      vscode.window.setStatusBarMessage(`CodeBuddy: ${uri.path} ${params.deleted ? 'was deleted' : 'changed'} on the server${params.actionId ? ` (${params.actionId})` : ''}`, 5_000);
    });
    try {
      await started.start();
    } catch (error) {
      if (client === started) dispatch({ type: 'error', message: error instanceof Error ? error.message : String(error) });
      return;
    }
    await refresh();
  };
  const failed = (error: unknown) => void vscode.window.showErrorMessage(`CodeBuddy: ${error instanceof Error ? error.message : String(error)}`);
  const decide = async (item: PendingItem, verdict: 'approve' | 'reject') => {
    const source = pendingSource();
    if (typeof source === 'string') return void vscode.window.showWarningMessage(source);
    const reason = await vscode.window.showInputBox({ prompt: `Why ${verdict} ${item.action.operation} ${item.action.id}? (optional)` });
    if (reason === undefined) return; // cancelled
    const decided = verdict === 'approve' ? await source.approve(item.action.id, reason || undefined) : await source.reject(item.action.id, reason || undefined);
    const outcome = decided.error ? `${decided.status}: ${decided.error.code} ${decided.error.message}` : decided.status;
    void vscode.window.showInformationMessage(`CodeBuddy: ${decided.operation} ${decided.id} ${outcome}`);
    await refresh();
  };

  context.subscriptions.push(
    status,
    tree,
    view,
    files,
    vscode.workspace.registerFileSystemProvider(SCHEME, files, { isCaseSensitive: true }),
    vscode.commands.registerCommand('codebuddy.connect', () => connect().catch(failed)),
    vscode.commands.registerCommand('codebuddy.disconnect', async () => {
      dispatch({ type: 'disconnect' });
      await stop();
    }),
    vscode.commands.registerCommand('codebuddy.setToken', async () => {
      const { serverUrl } = settings();
      if (!serverUrl) return void vscode.window.showWarningMessage('CodeBuddy: set codebuddy.serverUrl first; the token is kept per server.');
      const value = await vscode.window.showInputBox({ prompt: `A CodeBuddy API token for ${serverBase(serverUrl).origin} (approver role to approve from here)`, password: true, ignoreFocusOut: true });
      if (value) await context.secrets.store(tokenKey(serverUrl), value);
    }),
    vscode.commands.registerCommand('codebuddy.openRemoteWorkspace', async () => {
      const workspace = await vscode.window.showInputBox({ prompt: 'The remote workspace (an id or a name)', value: settings().workspace });
      if (workspace) await vscode.commands.executeCommand('vscode.openFolder', workspaceRootUri(workspace));
    }),
    vscode.commands.registerCommand('codebuddy.refreshPending', refresh),
    vscode.commands.registerCommand('codebuddy.showDiff', async (item: PendingItem) => {
      const source = pendingSource();
      if (typeof source === 'string') return void vscode.window.showWarningMessage(source);
      await showPreview(source, item.action.id).catch(failed);
    }),
    vscode.commands.registerCommand('codebuddy.approveItem', (item: PendingItem) => decide(item, 'approve').catch(failed)),
    vscode.commands.registerCommand('codebuddy.rejectItem', (item: PendingItem) => decide(item, 'reject').catch(failed)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('codebuddy')) void refresh();
    }),
  );
  await connect().catch(failed);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
