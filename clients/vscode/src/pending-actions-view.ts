import * as vscode from 'vscode';
import type { ActionView, PendingActions } from './pending-actions';

export class PendingItem extends vscode.TreeItem {
  constructor(readonly action: ActionView) {
    super(action.operation, vscode.TreeItemCollapsibleState.None);
    this.id = action.id;
    this.description = `${action.id} · ${action.requested_by}`;
    this.tooltip = `${action.operation} by ${action.requested_by} in ${action.workspace_id ?? 'no workspace'}${action.expires_at ? `; expires ${action.expires_at}` : ''}`;
    this.contextValue = 'pendingAction';
    this.iconPath = new vscode.ThemeIcon('git-pull-request-draft');
    this.command = { command: 'codebuddy.showDiff', title: 'Show Diff', arguments: [this] };
  }
}

/** The *Pending actions* view: agents' held actions, with their diff and approve/reject. */
export class PendingActionsView implements vscode.TreeDataProvider<PendingItem>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private items: PendingItem[] = [];
  /** What the last refresh could not do, shown as the view's message. */
  message: string | undefined;

  constructor(
    /** Where actions are listed and decided now (REST or the LSP facade), or why there is none. */
    private readonly source: () => PendingActions | string,
    private readonly onCount: (count: number) => void,
  ) {}

  async refresh(): Promise<void> {
    const source = this.source();
    if (typeof source === 'string') {
      this.items = [];
      this.message = source;
    } else {
      try {
        this.items = (await source.list()).map((action) => new PendingItem(action));
        this.message = this.items.length === 0 ? 'No agent action waits for approval.' : undefined;
      } catch (error) {
        this.message = `Could not list pending actions: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    this.onCount(this.items.length);
    this.changed.fire();
  }

  getTreeItem(item: PendingItem): vscode.TreeItem {
    return item;
  }

  getChildren(): PendingItem[] {
    return this.items;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** The action's preview (a unified diff) in a read-only diff editor tab. */
export async function showPreview(actions: PendingActions, id: string): Promise<void> {
  const action = await actions.get(id);
  const document = await vscode.workspace.openTextDocument({ language: 'diff', content: action.preview ?? `${action.operation} ${action.id}: ${action.status} (no preview)` });
  await vscode.window.showTextDocument(document, { preview: true });
}
