import type { EventBus, FileChange } from '../core/event-bus.js';
import type { Logger } from '../core/logger.js';
import type { FileService } from '../files/file-service.js';
import type { WatchLease, WorkspaceWatchers } from '../files/workspace-watcher.js';
import type { Runtime } from '../workspaces/runtimes/runtime.js';
import type { Workspace } from '../workspaces/workspace.js';
import { ManagedLanguageServer, type PoolOptions } from './managed-language-server.js';
import type { ServerRegistry, ServerSpec } from './server-registry.js';

export interface LanguageServerPoolOptions extends PoolOptions {
  /** A server unused this long is stopped (it starts again on the next request). */
  idleStopMs: number;
}

/**
 * One language server per (workspace, server id), shared by every caller of that workspace:
 * started on first use, stopped when idle, when the workspace is stopped or deleted, and at
 * shutdown. File changes published on the bus reach the servers of their workspace; while a
 * workspace has a server in use, its watcher runs, so changes made by commands reach them too.
 */
export class LanguageServerPool {
  private readonly servers = new Map<string, ManagedLanguageServer>();
  private readonly watching = new Map<string, WatchLease>();
  private readonly sweep: NodeJS.Timeout;
  private readonly unsubscribe: (() => void)[];
  private readonly startListeners = new Set<(server: ManagedLanguageServer) => void>();

  constructor(
    readonly registry: ServerRegistry,
    private readonly runtimeFor: (workspace: Workspace) => Runtime,
    private readonly files: FileService,
    private readonly watchers: WorkspaceWatchers,
    private readonly options: LanguageServerPoolOptions,
    events: EventBus,
    private readonly logger: Logger,
  ) {
    this.sweep = setInterval(() => void this.stopIdle(), Math.max(1_000, Math.min(60_000, options.idleStopMs / 4)));
    this.sweep.unref();
    this.unsubscribe = [
      events.subscribe('files.changed', (event) => this.changed(event.workspaceId, event.changes)),
      events.subscribe('files.moved', (event) =>
        this.changed(event.workspaceId, [
          { path: event.from, kind: 'deleted' },
          { path: event.to, kind: 'created' },
        ]),
      ),
      events.subscribe('workspace.deleted', (event) => void this.stopWorkspace(event.workspaceId)),
    ];
  }

  /** The server of this workspace, made (not started) when there is none. */
  server(workspace: Workspace, spec: ServerSpec): ManagedLanguageServer {
    const key = `${workspace.id}\0${spec.id}`;
    let server = this.servers.get(key);
    if (!server) {
      server = new ManagedLanguageServer(workspace, spec, this.registry, this.runtimeFor, this.files, this.options, this.logger, (started) => {
        for (const listener of this.startListeners) {
          try {
            listener(started);
          } catch (error) {
            this.logger.warn({ err: error, server: spec.id }, 'a server start listener failed');
          }
        }
      });
      this.servers.set(key, server);
    }
    // The latest record: a Docker workspace's container may have been restarted since.
    server.workspace = workspace;
    if (!this.watching.has(workspace.id)) this.watching.set(workspace.id, this.watchers.watch(workspace));
    return server;
  }

  /** Every run of any server that has initialized (a lazy start, a restart), whoever started it; returns the unsubscribe function. */
  watchStarts(listener: (server: ManagedLanguageServer) => void): () => void {
    this.startListeners.add(listener);
    return () => this.startListeners.delete(listener);
  }

  /** Servers made for a workspace so far, started or not. */
  of(workspaceId: string): ManagedLanguageServer[] {
    return [...this.servers.entries()].filter(([key]) => key.startsWith(`${workspaceId}\0`)).map(([, server]) => server);
  }

  /** Servers that concern the whole workspace: those whose root markers it has, and those already running for it. */
  async relevant(workspace: Workspace): Promise<ServerSpec[]> {
    const running = new Set(this.of(workspace.id).filter((server) => server.state !== 'stopped').map((server) => server.spec.id));
    const relevant: ServerSpec[] = [];
    for (const spec of this.registry.all()) {
      if (!spec.command[workspace.runtime]) continue;
      if (running.has(spec.id) || (await this.hasAny(workspace, spec.rootMarkers))) relevant.push(spec);
    }
    return relevant;
  }

  private async hasAny(workspace: Workspace, markers: readonly string[]): Promise<boolean> {
    for (const marker of markers) {
      try {
        await this.files.stat(workspace, { path: marker });
        return true;
      } catch {
        // not there
      }
    }
    return false;
  }

  async stopWorkspace(workspaceId: string): Promise<void> {
    const servers = this.of(workspaceId);
    for (const server of servers) this.servers.delete(`${workspaceId}\0${server.spec.id}`);
    this.stopWatching(workspaceId);
    await Promise.all(servers.map((server) => server.stop().catch((error: unknown) => this.logger.warn({ err: error, workspaceId }, 'stopping a language server failed'))));
  }

  private changed(workspaceId: string, changes: readonly FileChange[]): void {
    for (const server of this.of(workspaceId)) {
      server.filesChanged(changes).catch((error: unknown) => this.logger.warn({ err: error, workspaceId, server: server.spec.id }, 'file changes did not reach a language server'));
    }
  }

  private async stopIdle(): Promise<void> {
    const now = Date.now();
    for (const server of this.servers.values()) {
      if (server.state !== 'stopped' && server.state !== 'crashed' && now - server.usedAt > this.options.idleStopMs && !server.holdsBuffers) {
        this.logger.debug({ workspaceId: server.workspace.id, server: server.spec.id }, 'stopping an idle language server');
        await server.stop().catch(() => undefined);
      }
    }
    // A workspace whose servers all rest needs no watcher: the next request reads its documents again anyway.
    for (const workspaceId of this.watching.keys()) {
      if (this.of(workspaceId).every((server) => server.state === 'stopped' || server.state === 'crashed')) this.stopWatching(workspaceId);
    }
  }

  private stopWatching(workspaceId: string): void {
    this.watching.get(workspaceId)?.release();
    this.watching.delete(workspaceId);
  }

  async close(): Promise<void> {
    clearInterval(this.sweep);
    for (const unsubscribe of this.unsubscribe) unsubscribe();
    for (const workspaceId of [...this.watching.keys()]) this.stopWatching(workspaceId);
    const servers = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(servers.map((server) => server.stop().catch(() => undefined)));
  }
}
