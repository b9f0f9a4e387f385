import { randomUUID } from 'node:crypto';
import type { MessageConnection } from 'vscode-jsonrpc';
import type { Principal } from '../../auth/principal.js';
import type { LanguageServerPool } from '../../code/language-server-pool.js';
import type { ManagedLanguageServer } from '../../code/managed-language-server.js';
import type { ServerSpec } from '../../code/server-registry.js';
import { CodeBuddyError } from '../../core/errors.js';
import type { EventBus, FileChange } from '../../core/event-bus.js';
import type { Logger } from '../../core/logger.js';
import type { FileService } from '../../files/file-service.js';
import { sha256 } from '../../files/text-content.js';
import type { ProposalService } from '../../ledger/proposal-service.js';
import type { OperationRegistry } from '../../operations/registry.js';
import type { Workspace } from '../../workspaces/workspace.js';
import type { FACADE_COMMANDS } from './capability-union.js';
import { EditorSession } from './editor-session.js';
import { PendingActions, type PendingChange } from './pending-actions.js';

export interface LspFacadeOptions {
  requestTimeoutMs: number;
  /** How often held actions are read again while editors are connected: decisions made by another process (the CLI, another server) are seen. */
  pendingPollMs: number;
  version: string;
}

type FacadeCommand = (typeof FACADE_COMMANDS)[number];
const OPERATION_OF: Record<FacadeCommand, string> = { 'codebuddy.approve': 'action_approve', 'codebuddy.reject': 'action_reject', 'codebuddy.diff': 'action_get', 'codebuddy.pending': 'action_list' };

/** The operation's arguments for an editor's command: an action id (and a reason), or for the list, the held ones. */
function argumentsOf(command: FacadeCommand, args: readonly unknown[]): Record<string, unknown> {
  if (command === 'codebuddy.pending') return { status: 'proposed', ...(typeof args[0] === 'string' ? { cursor: args[0] } : {}) };
  if (typeof args[0] !== 'string') throw new CodeBuddyError('E_INVALID_ARGUMENT', `${command} takes an action id`, { field: 'arguments' });
  return { id: args[0], ...(typeof args[1] === 'string' && command !== 'codebuddy.diff' ? { reason: args[1] } : {}) };
}

/**
 * The LSP face: editors (Neovim, VS Code, anything speaking LSP) connected to workspaces,
 * over stdio (`codebuddy lsp`) or a WebSocket (`/lsp/:workspace`). A thin face: requests
 * are routed to the workspace's language servers in the pool — the same processes the MCP
 * code tools use — with their URIs translated; no language logic of its own. What it adds
 * is what only CodeBuddy knows: agents' held actions, shown and decided in the editor
 * through the same operations (and role checks) as MCP and REST.
 */
export class LspFacade {
  private readonly sessions = new Map<string, Set<EditorSession>>();
  private readonly attached = new Map<ManagedLanguageServer, () => void>();
  private readonly pending = new Map<string, PendingChange[]>();
  private readonly pendingActions: PendingActions;
  private readonly unsubscribe: (() => void)[];
  private readonly poll: NodeJS.Timeout;

  constructor(
    readonly pool: LanguageServerPool,
    private readonly files: FileService,
    private readonly proposals: ProposalService,
    private readonly operations: OperationRegistry,
    events: EventBus,
    readonly logger: Logger,
    private readonly options: LspFacadeOptions,
  ) {
    this.pendingActions = new PendingActions(proposals);
    this.unsubscribe = [
      events.subscribe('files.changed', (event) => void this.filesChanged(event.workspaceId, event.changes, event.actionId)),
      events.subscribe('files.moved', (event) =>
        void this.filesChanged(event.workspaceId, [{ path: event.from, kind: 'deleted' }, { path: event.to, kind: 'created' }], event.actionId),
      ),
      events.subscribe('action.changed', (event) => {
        const sessions = this.sessions.get(event.workspaceId);
        if (!sessions) return;
        for (const session of sessions) session.notify('codebuddy/actionChanged', { id: event.actionId, operation: event.operation, state: event.state });
        this.refreshPending(event.tenantId, event.workspaceId, false);
      }),
      events.subscribe('workspace.deleted', (event) => {
        for (const session of [...(this.sessions.get(event.workspaceId) ?? [])]) session.close();
      }),
      // A server started after editors initialized (lazily, by whoever): its diagnostics and messages wired, its capabilities announced.
      pool.watchStarts((server) => {
        const sessions = this.sessions.get(server.workspace.id);
        if (!sessions || sessions.size === 0) return;
        this.server(server.workspace, server.spec);
        for (const session of sessions) session.serverStarted(server);
      }),
    ];
    this.poll = setInterval(() => this.pollPending(), options.pendingPollMs);
    this.poll.unref();
  }

  get requestTimeoutMs(): number {
    return this.options.requestTimeoutMs;
  }

  get version(): string {
    return this.options.version;
  }

  /** Serves one editor on a JSON-RPC connection (not yet listening), as `principal`, in `workspace`. */
  connect(connection: MessageConnection, principal: Principal, workspace: Workspace): EditorSession {
    const session = new EditorSession(connection, principal, workspace, this);
    let sessions = this.sessions.get(workspace.id);
    if (!sessions) this.sessions.set(workspace.id, (sessions = new Set()));
    sessions.add(session);
    session.start();
    return session;
  }

  detach(session: EditorSession): void {
    const sessions = this.sessions.get(session.workspace.id);
    sessions?.delete(session);
    if (sessions && sessions.size === 0) {
      this.sessions.delete(session.workspace.id);
      this.pending.delete(session.workspace.id);
      for (const server of this.pool.of(session.workspace.id)) {
        this.attached.get(server)?.();
        this.attached.delete(server);
      }
    }
  }

  /** The workspace's server from the pool, its diagnostics and server requests wired to the editors. */
  server(workspace: Workspace, spec: ServerSpec): ManagedLanguageServer {
    const server = this.pool.server(workspace, spec);
    if (!this.attached.has(server)) {
      const editors = () => this.sessions.get(workspace.id) ?? new Set<EditorSession>();
      const stopDiagnostics = server.watchDiagnostics((published) => {
        for (const session of editors()) session.serverPublished(server, published);
      });
      // A server request goes to the editor whose request to that server started last among those still in flight.
      const stopRouting = server.routeServerRequests((method, params) => {
        let cause: EditorSession | undefined;
        let latest = -1;
        for (const session of editors()) {
          const since = session.busyOn(server);
          if (since !== undefined && since > latest) [cause, latest] = [session, since];
        }
        return cause?.serverRequest(method, params);
      });
      // Progress, logs and messages: each editor takes what concerns it (its requests' progress, the server's own).
      const stopMessages = server.watchMessages((method, params) => {
        for (const session of editors()) session.serverMessage(server, method, params);
      });
      // What the server registers after it started (and loses with its run): each editor is given its share.
      const stopRegistrations = server.watchRegistrations((change) => {
        for (const session of editors()) session.serverRegistered(server, change);
      });
      this.attached.set(server, () => {
        stopDiagnostics();
        stopRouting();
        stopMessages();
        stopRegistrations();
      });
    }
    return server;
  }

  /** The held actions of a workspace, per file (cached; refreshed on action events and by polling). */
  pendingFor(workspace: Workspace): PendingChange[] {
    let changes = this.pending.get(workspace.id);
    if (!changes) {
      changes = this.pendingActions.of(workspace.tenantId, workspace.id);
      if (this.sessions.has(workspace.id)) this.pending.set(workspace.id, changes);
    }
    return changes;
  }

  /** Runs an editor's codebuddy.* command as the operation MCP and REST call (action_get/approve/reject/list), with the same role checks and recording. */
  async command(principal: Principal, command: FacadeCommand, args: readonly unknown[]): Promise<unknown> {
    const correlationId = `lsp:${randomUUID()}`;
    const result = await this.operations.invoke(OPERATION_OF[command], argumentsOf(command, args), {
      principal,
      correlationId,
      signal: new AbortController().signal,
      logger: this.logger.child({ correlationId }),
    });
    return { ...result.output, text: result.text };
  }

  private refreshPending(tenantId: string, workspaceId: string, announce: boolean): void {
    const sessions = this.sessions.get(workspaceId);
    if (!sessions) return;
    const before = this.pending.get(workspaceId) ?? [];
    const after = this.pendingActions.of(tenantId, workspaceId);
    this.pending.set(workspaceId, after);
    const signature = (changes: PendingChange[]) => changes.map((change) => `${change.actionId}:${change.path}:${JSON.stringify(change.ranges)}`).join('|');
    if (signature(before) === signature(after)) return;
    if (announce) {
      const was = new Set(before.map((change) => change.actionId));
      const now = new Set(after.map((change) => change.actionId));
      for (const id of now) if (!was.has(id)) for (const session of sessions) session.notify('codebuddy/actionChanged', { id, operation: after.find((change) => change.actionId === id)!.operation, state: 'proposed' });
      for (const id of was) {
        if (now.has(id)) continue;
        const row = this.proposals.get(tenantId, id);
        for (const session of sessions) session.notify('codebuddy/actionChanged', { id, operation: row?.operation ?? '', state: row?.state ?? 'unknown' });
      }
    }
    for (const session of sessions) session.publishAll();
  }

  private pollPending(): void {
    for (const sessions of this.sessions.values()) {
      const first = sessions.values().next().value;
      if (first) this.refreshPending(first.workspace.tenantId, first.workspace.id, true);
    }
  }

  private async filesChanged(workspaceId: string, changes: readonly FileChange[], actionId: string | undefined): Promise<void> {
    const sessions = this.sessions.get(workspaceId);
    if (!sessions) return;
    const paths = new Set(changes.map((change) => change.path));
    for (const session of sessions) {
      for (const path of session.openPaths.filter((open) => paths.has(open))) {
        const disk = await this.files.readIfChanged(session.workspace, path).catch(() => undefined);
        await session.diskChanged(path, disk?.content ? sha256(disk.content) : null, actionId);
      }
    }
  }

  close(): void {
    clearInterval(this.poll);
    for (const unsubscribe of this.unsubscribe) unsubscribe();
    for (const sessions of [...this.sessions.values()]) for (const session of [...sessions]) session.close();
  }
}
