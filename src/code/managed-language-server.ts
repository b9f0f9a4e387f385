import type { Diagnostic, DocumentDiagnosticReport, Position, PrepareRenameResult, PublishDiagnosticsParams, Registration, ServerCapabilities, WorkspaceEdit } from 'vscode-languageserver-protocol';
import { CodeBuddyError } from '../core/errors.js';
import type { FileChange } from '../core/event-bus.js';
import type { Logger } from '../core/logger.js';
import type { FileService } from '../files/file-service.js';
import { decodeText, sha256 } from '../files/text-content.js';
import type { Runtime } from '../workspaces/runtimes/runtime.js';
import type { Workspace } from '../workspaces/workspace.js';
import { LanguageServerConnection, unavailable, type FORWARDED_SERVER_MESSAGES } from './language-server-connection.js';
import type { ServerRegistry, ServerSpec } from './server-registry.js';
import { LineIndex } from './document-offsets.js';
import { tsserverDiagnostics } from './tsserver-diagnostics.js';
import { pathGlob } from '../core/path-glob.js';
import { WORKSPACE_MOUNT } from '../workspaces/workspace.js';
import { pathOf, ROOT_URI, uriOf } from './workspace-uri.js';

export type ServerMessage = (typeof FORWARDED_SERVER_MESSAGES)[number];

export type ServerState = 'stopped' | 'starting' | 'indexing' | 'ready' | 'crashed';

/** Capabilities a server registered (`added`) or that are gone (`removed`: unregistered, replaced, or its run ended). */
export interface RegistrationChange {
  added: readonly Registration[];
  removed: readonly Registration[];
}

export interface PoolOptions {
  requestTimeoutMs: number;
  /** Longest wait for a server to be ready, or for diagnostics of a new version. */
  readyTimeoutMs: number;
  maxMessageBytes: number;
  /** Most documents one server keeps open; the least recently used is closed past it. */
  maxOpenDocuments: number;
}

/** A document as the server has it: the text and version CodeBuddy last sent. */
export interface OpenDocument {
  path: string;
  uri: string;
  languageId: string;
  version: number;
  sha256: string;
  stamp: string;
  text: string;
  /** Arrival number of the last change sent: pushed diagnostics after it are of this version. */
  sentAt: number;
  /** The server has published diagnostics for it in this run: it has loaded the project around it. */
  published: boolean;
  usedAt: number;
  /**
   * Editors whose buffer owns the document (by holder id). While any does, the server sees
   * the buffers (the last one shown) and never the disk; the disk's hash is kept to tell an
   * unsaved buffer apart.
   */
  holders: Set<string>;
  /** sha256 of the file on disk as last read (null: no such file); meaningful while held. */
  diskSha256: string | null;
}

/** Diagnostics as a server published them, for a document it has open. */
export interface PublishedDiagnostics {
  path: string;
  /** The version they belong to, when the server said; else the document's version when they arrived. */
  version: number;
  items: Diagnostic[];
}

/** A document as shown to the server: its version there and the hash of the text it has. */
export interface ShownDocument {
  path: string;
  uri: string;
  version: number;
  sha256: string;
}

interface PushedDiagnostics {
  /** The version the server said they belong to, when it says. */
  version: number | null;
  /** How many times in a row the server published for that version. */
  count: number;
  arrival: number;
  items: Diagnostic[];
}

/** Diagnostics of one document and the version of it they belong to. */
export interface VersionedDiagnostics {
  path: string;
  version: number;
  items: Diagnostic[];
  /** False when the bounded wait for diagnostics of `version` gave up: `items` are older. */
  fresh: boolean;
  note?: string;
}

const MAX_DIAGNOSTICS_PER_FILE = 1000;
const MAX_BACKOFF_MS = 30_000;
/** How long after a watched-file announcement an empty diagnostics report may still be followed by the real one. */
const ANNOUNCE_WINDOW_MS = 5_000;
/** How long such an empty report is given for the real one to follow. */
const SETTLE_AFTER_ANNOUNCE_MS = 1_500;
/** Files of one change shown to a server at most (a refactor may touch hundreds: the rest reach it as watched-file events). */
const INTRODUCED_PER_CHANGE = 20;
/** A server that stayed up this long is forgiven its earlier crashes. */
const STABLE_AFTER_MS = 60_000;

/**
 * One language server of one workspace, across its runs: started lazily through the
 * workspace's runtime, restarted with backoff after a crash (the documents it had open are
 * opened again), stopped when idle or when the workspace goes. Before every request the
 * documents it has open are checked against the disk (fstat through the handle walk, the text
 * read again only when that changed) and sent as a new version when they differ, so answers
 * never depend on when a watcher noticed a change.
 */
export class ManagedLanguageServer {
  state: ServerState = 'stopped';
  restarts = 0;
  lastCrash: { reason: string; stderr: string[]; at: number } | undefined;
  usedAt = Date.now();
  private connection: LanguageServerConnection | undefined;
  private starting: Promise<LanguageServerConnection> | undefined;
  private startedAt = 0;
  private crashes = 0;
  private stopping = false;
  private arrivals = 0;
  private readonly documents = new Map<string, OpenDocument>();
  private readonly pushed = new Map<string, PushedDiagnostics>();
  private readonly pulled = new Map<string, { resultId?: string; items: Diagnostic[] }>();
  /** When each open document's text last changed (arrival number of its didChange). */
  private readonly changedAt = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private readonly documentLocks = new Map<string, Promise<unknown>>();
  /** When each path was last announced as a watched-file change (bounded; for `announcedRecently`). */
  private readonly announced = new Map<string, number>();
  /** File changes from the bus still being sent to the server; requests wait for them. */
  private settling: Promise<void> = Promise.resolve();
  private readonly diagnosticListeners = new Set<(published: PublishedDiagnostics) => void>();
  private readonly requestRouters = new Set<(method: string, params: unknown) => Promise<unknown> | undefined>();
  private readonly messageListeners = new Set<(method: ServerMessage, params: unknown) => void>();
  private readonly registrationListeners = new Set<(change: RegistrationChange) => void>();

  constructor(
    public workspace: Workspace,
    readonly spec: ServerSpec,
    private readonly registry: ServerRegistry,
    private readonly runtimeFor: (workspace: Workspace) => Runtime,
    private readonly files: FileService,
    private readonly options: PoolOptions,
    private readonly logger: Logger,
    /** Called each time a run of the server has initialized (first start and restarts): editors learn what it offers. */
    private readonly onStarted: (server: ManagedLanguageServer) => void = () => undefined,
  ) {}

  get pid(): number | undefined {
    return this.connection?.pid;
  }

  get openDocuments(): number {
    return this.documents.size;
  }

  /** The text last sent for an open document: what the server's answers refer to. */
  documentText(path: string): string | undefined {
    return this.documents.get(path)?.text;
  }

  /** Whether an editor's buffer owns some document: such a server is not stopped for idleness (the buffers would be lost). */
  get holdsBuffers(): boolean {
    return [...this.documents.values()].some((document) => document.holders.size > 0);
  }

  /** The document as the server has it now, if open: its version and the hash of its text. */
  shown(path: string): ShownDocument | undefined {
    const document = this.documents.get(path);
    return document && { path, uri: document.uri, version: document.version, sha256: document.sha256 };
  }

  /** When an editor's buffer owns the document: the version the server has, and whether it differs from the disk. */
  bufferState(path: string): { version: number; unsaved: boolean } | undefined {
    const document = this.documents.get(path);
    if (!document || document.holders.size === 0) return undefined;
    return { version: document.version, unsaved: document.sha256 !== document.diskSha256 };
  }

  /** The last diagnostics the server published for an open document, with the version they belong to. */
  latestDiagnostics(path: string): PublishedDiagnostics | undefined {
    const pushed = this.pushed.get(path);
    const document = this.documents.get(path);
    if (!pushed || !document) return undefined;
    const version = pushed.version ?? (pushed.arrival > document.sentAt ? document.version : -1);
    return { path, version, items: pushed.items };
  }

  /** Every diagnostics publication for an open document, as it arrives; returns the unsubscribe function. */
  watchDiagnostics(listener: (published: PublishedDiagnostics) => void): () => void {
    this.diagnosticListeners.add(listener);
    return () => this.diagnosticListeners.delete(listener);
  }

  /**
   * Lets an editor answer the server's requests that concern a human (ROUTABLE_SERVER_REQUESTS):
   * a router returns the answer, or undefined when none of its editors caused the request.
   */
  routeServerRequests(router: (method: string, params: unknown) => Promise<unknown> | undefined): () => void {
    this.requestRouters.add(router);
    return () => this.requestRouters.delete(router);
  }

  /** The server's progress, logs and messages (FORWARDED_SERVER_MESSAGES), as they arrive; returns the unsubscribe function. */
  watchMessages(listener: (method: ServerMessage, params: unknown) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  /**
   * What the server registers and unregisters after it started (`client/registerCapability`),
   * as it happens; when a run ends (crash, stop) everything it had registered is reported
   * removed. Returns the unsubscribe function.
   */
  watchRegistrations(listener: (change: RegistrationChange) => void): () => void {
    this.registrationListeners.add(listener);
    return () => this.registrationListeners.delete(listener);
  }

  /** What the running server has registered so far (none while it is not running). */
  get registrations(): Registration[] {
    return this.connection && !this.connection.isClosed ? [...this.connection.registrations.values()] : [];
  }

  private registrationsChanged(change: RegistrationChange): void {
    for (const listener of this.registrationListeners) {
      try {
        listener(change);
      } catch (error) {
        this.logger.warn({ err: error, server: this.spec.id }, 'a registration listener failed');
      }
    }
  }

  /** A run ended: what it registered is gone with it. */
  private dropRegistrations(connection: LanguageServerConnection): void {
    const removed = [...connection.registrations.values()];
    connection.registrations.clear();
    if (removed.length > 0) this.registrationsChanged({ added: [], removed });
  }

  /** What the running server advertised at initialize, or undefined while it is not running. */
  get capabilities(): ServerCapabilities | undefined {
    return this.connection && !this.connection.isClosed ? this.connection.capabilities : undefined;
  }

  get lastStderr(): string[] {
    return this.connection?.lastStderr ?? this.lastCrash?.stderr ?? [];
  }

  /** The running connection, started (or restarted after its backoff) when there is none. */
  async connect(): Promise<LanguageServerConnection> {
    this.usedAt = Date.now();
    if (this.connection && !this.connection.isClosed) return this.connection;
    this.starting ??= this.start().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async start(): Promise<LanguageServerConnection> {
    this.stopping = false;
    if (this.lastCrash) {
      if (Date.now() - this.startedAt > STABLE_AFTER_MS) this.crashes = 0;
      const backoff = this.crashes <= 1 ? 0 : Math.min(MAX_BACKOFF_MS, 500 * 2 ** (this.crashes - 2));
      const left = this.lastCrash.at + backoff - Date.now();
      if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
      this.restarts++;
    }
    this.state = 'starting';
    const runtime = this.runtimeFor(this.workspace);
    const command = this.registry.command(this.spec, runtime.kind);
    if (!command) throw new CodeBuddyError('E_UNSUPPORTED', `the ${this.spec.id} language server is not available in ${runtime.kind} workspaces`, { server: this.spec.id });
    this.startedAt = Date.now();
    let connection: LanguageServerConnection;
    try {
      const child = await runtime.spawnStdio({ label: `${this.workspace.id}-${this.spec.id}-${this.restarts}`, cwd: this.workspace.root, command: command.argv, readOnly: command.readOnly, env: this.spec.env });
      connection = new LanguageServerConnection(child, this.spec, this.options.maxMessageBytes, {
        diagnostics: (params) => this.onDiagnostics(params),
        progress: (active) => {
          if (this.state === 'ready' || this.state === 'indexing') this.state = active ? 'indexing' : 'ready';
          this.wake();
        },
        serverRequest: (method, params) => {
          for (const router of this.requestRouters) {
            const answer = router(method, params);
            if (answer) return answer;
          }
          return undefined;
        },
        serverMessage: (method, params) => {
          for (const listener of this.messageListeners) listener(method, params);
        },
        registrations: (added, removed) => this.registrationsChanged({ added, removed }),
      });
    } catch (error) {
      // The runtime refused to start it (a container stopped behind CodeBuddy's back): not a
      // crash of the server, so no backoff; the next call tries again, and succeeds once the
      // runtime is back.
      const reason = (error as Error).message.slice(0, 300);
      this.state = 'crashed';
      this.lastCrash = { reason, stderr: [], at: Date.now() };
      this.wake();
      if (error instanceof CodeBuddyError) throw error;
      throw unavailable(`the ${this.spec.id} language server could not be started in workspace ${this.workspace.name}'s ${runtime.kind} runtime: ${reason}; retry once it runs again`);
    }
    try {
      await connection.initialize(this.options.readyTimeoutMs);
    } catch (error) {
      const reason = await Promise.race([connection.closed, Promise.resolve(undefined)]);
      this.dropRegistrations(connection);
      void connection.stop();
      this.crashed(reason ?? `initialize failed: ${(error as Error).message}`, connection.lastStderr);
      if (error instanceof CodeBuddyError && error.code === 'E_TIMEOUT') throw error;
      throw unavailable(`the ${this.spec.id} language server did not start: ${reason ?? (error as Error).message}${tail(connection.lastStderr)}`);
    }
    this.connection = connection;
    void connection.closed.then((reason) => this.onClosed(connection, reason));
    this.state = connection.indexing ? 'indexing' : 'ready';
    this.pushed.clear();
    this.changedAt.clear();
    this.pulled.clear();
    // The documents the previous run had open, opened again as they are on disk now.
    for (const document of [...this.documents.values()]) {
      document.published = false;
      // An editor's buffer is opened again as it is; the others as they are on disk now.
      if (document.holders.size === 0) {
        try {
          const state = await this.files.readIfChanged(this.workspace, document.path);
          this.applyText(document, state.stamp, state.content!);
        } catch {
          this.documents.delete(document.path);
          continue;
        }
      }
      connection.notify('textDocument/didOpen', { textDocument: { uri: document.uri, languageId: document.languageId, version: document.version, text: document.text } });
      document.sentAt = ++this.arrivals;
    }
    this.onStarted(this);
    return connection;
  }

  private crashed(reason: string, stderr: string[]): void {
    this.state = 'crashed';
    this.crashes++;
    this.lastCrash = { reason, stderr, at: Date.now() };
    this.wake();
  }

  private onClosed(connection: LanguageServerConnection, reason: string): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    this.dropRegistrations(connection);
    if (this.stopping) {
      this.state = 'stopped';
      this.wake();
      return;
    }
    this.logger.warn({ workspaceId: this.workspace.id, server: this.spec.id, reason }, 'language server stopped unexpectedly');
    this.crashed(reason, connection.lastStderr);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const connection = this.connection ?? (await this.starting?.catch(() => undefined));
    await connection?.stop();
    this.connection = undefined;
    this.documents.clear();
    this.pushed.clear();
    this.changedAt.clear();
    this.state = 'stopped';
  }

  private onDiagnostics(params: PublishDiagnosticsParams): void {
    const mapped = pathOf(params.uri);
    if (!mapped.inside) return;
    // Only documents CodeBuddy opened: a server cannot fill our memory with diagnostics of every file it likes.
    const document = this.documents.get(mapped.path);
    if (!document) return;
    document.published = true;
    const version = typeof params.version === 'number' ? params.version : null;
    const items = (params.diagnostics ?? []).slice(0, MAX_DIAGNOSTICS_PER_FILE);
    const previous = this.pushed.get(mapped.path);
    const count = previous && version !== null && previous.version === version ? previous.count + 1 : 1;
    this.pushed.set(mapped.path, { version, count, arrival: ++this.arrivals, items });
    this.wake();
    for (const listener of this.diagnosticListeners) listener({ path: mapped.path, version: version ?? document.version, items });
  }

  private announcedRecently(path: string): boolean {
    return Date.now() - (this.announced.get(path) ?? 0) < ANNOUNCE_WINDOW_MS;
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Waits until `ready()` holds, or the server goes, or `timeoutMs` passes: true only in the first case. */
  private waitFor(ready: () => boolean, timeoutMs: number): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      const check = () => {
        if (ready()) done(true);
        else if (!this.connection || this.connection.isClosed) done(false);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Serializes work on one document: two requests never send the same version twice. */
  private withDocument<T>(path: string, work: () => Promise<T>): Promise<T> {
    const previous = this.documentLocks.get(path) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.documentLocks.set(path, next);
    void next.finally(() => this.documentLocks.get(path) === next && this.documentLocks.delete(path)).catch(() => undefined);
    return next;
  }

  /** The disk's content for the document: becomes what the server sees unless an editor's buffer owns it. */
  private applyText(document: OpenDocument, stamp: string, content: Buffer): boolean {
    document.stamp = stamp;
    const hash = sha256(content);
    document.diskSha256 = hash;
    if (hash === document.sha256 || document.holders.size > 0) return false;
    const text = decodeText(content);
    if (text === undefined) throw new CodeBuddyError('E_NOT_A_FILE', `${document.path} is binary`, { field: 'path' });
    document.sha256 = hash;
    document.text = text;
    document.version++;
    return true;
  }

  /**
   * Opens the document (or brings the open one up to date with the disk), and returns it.
   * `path` is what the caller gave: the handle walk confines it and names it canonically.
   */
  async open(connection: LanguageServerConnection, path: string, languageId: string): Promise<OpenDocument> {
    // A path given as the canonical name of an open document costs an fstat when unchanged.
    const first = await this.files.readIfChanged(this.workspace, path, this.documents.get(path)?.stamp);
    return this.withDocument(first.path, async () => {
      let document = this.documents.get(first.path);
      // Read again under the document's lock when it changed: another call may have sent a newer text meanwhile.
      const located = document && first.stamp !== document.stamp ? await this.files.readIfChanged(this.workspace, first.path, document.stamp) : first;
      if (document && !located.content) {
        // unchanged
      } else if (!document) {
        const text = decodeText(located.content!);
        if (text === undefined) throw new CodeBuddyError('E_NOT_A_FILE', `${located.path} is binary`, { field: 'path' });
        const hash = sha256(located.content!);
        document = { path: located.path, uri: uriOf(located.path), languageId, version: 1, sha256: hash, stamp: located.stamp, text, sentAt: 0, published: false, usedAt: Date.now(), holders: new Set(), diskSha256: hash };
        this.documents.set(located.path, document);
        connection.notify('textDocument/didOpen', { textDocument: { uri: document.uri, languageId, version: 1, text } });
        document.sentAt = ++this.arrivals;
        this.closeLeastUsed(connection);
      } else if (located.content && this.applyText(document, located.stamp, located.content)) {
        this.sendChange(connection, document);
      }
      document.usedAt = Date.now();
      return document;
    });
  }

  /**
   * An editor's buffer becomes what the server sees for a document (opened with it, or a new
   * version when the text differs from what the server has), and `send` runs under the
   * document's lock right after: a request it sends reaches the server before any other
   * text of the document can. `path` must be a canonical workspace path (the caller confines
   * it). The document stays the editor's until every holder has released it. `hash` is the
   * text's sha256 when the caller keeps it (an editor's buffer is hashed once per change, not
   * once per request).
   */
  async showBuffer<T>(connection: LanguageServerConnection, path: string, languageId: string, text: string, holder: string, send: (shown: ShownDocument) => T, hash = sha256(text)): Promise<{ shown: ShownDocument; sent: T }> {
    return this.withDocument(path, async () => {
      let document = this.documents.get(path);
      if (!document) {
        const disk = await this.files.readIfChanged(this.workspace, path).catch(() => undefined);
        document = { path, uri: uriOf(path), languageId, version: 1, sha256: hash, stamp: disk?.stamp ?? '', text, sentAt: 0, published: false, usedAt: Date.now(), holders: new Set([holder]), diskSha256: disk ? sha256(disk.content!) : null };
        this.documents.set(path, document);
        connection.notify('textDocument/didOpen', { textDocument: { uri: document.uri, languageId, version: 1, text } });
        document.sentAt = ++this.arrivals;
        this.closeLeastUsed(connection);
      } else {
        document.holders.add(holder);
        if (document.sha256 !== hash) {
          document.sha256 = hash;
          document.text = text;
          document.version++;
          this.sendChange(connection, document);
        }
      }
      document.usedAt = Date.now();
      const shown = { path, uri: document.uri, version: document.version, sha256: document.sha256 };
      return { shown, sent: send(shown) };
    });
  }

  /** An editor closed its buffer: once no editor holds the document, the server sees the disk again (or it is closed, when the file is gone). */
  async releaseBuffer(path: string, holder: string): Promise<void> {
    const connection = this.connection;
    await this.withDocument(path, async () => {
      const document = this.documents.get(path);
      if (!document || !document.holders.delete(holder) || document.holders.size > 0) return;
      if (!connection || connection.isClosed) return;
      try {
        const disk = await this.files.readIfChanged(this.workspace, path);
        if (this.applyText(document, disk.stamp, disk.content!)) this.sendChange(connection, document);
      } catch {
        this.close(connection, path);
      }
    });
  }

  private sendChange(connection: LanguageServerConnection, document: OpenDocument): void {
    connection.notify('textDocument/didChange', { textDocument: { uri: document.uri, version: document.version }, contentChanges: [{ text: document.text }] });
    document.sentAt = ++this.arrivals;
    this.changedAt.set(document.path, document.sentAt);
  }

  /** Whether another open document's text changed after this document's version was sent. */
  private changedSince(document: OpenDocument): boolean {
    return [...this.changedAt].some(([path, at]) => path !== document.path && at > document.sentAt && this.documents.has(path));
  }

  private closeLeastUsed(connection: LanguageServerConnection): void {
    if (this.documents.size <= this.options.maxOpenDocuments) return;
    const oldest = [...this.documents.values()].filter((document) => document.holders.size === 0).sort((a, b) => a.usedAt - b.usedAt)[0];
    if (oldest) this.close(connection, oldest.path);
  }

  private close(connection: LanguageServerConnection, path: string): void {
    const document = this.documents.get(path);
    if (!document) return;
    this.documents.delete(path);
    this.pushed.delete(path);
    this.pulled.delete(path);
    this.changedAt.delete(path);
    connection.notify('textDocument/didClose', { textDocument: { uri: document.uri } });
  }

  /**
   * Every open document checked against the disk: unchanged ones cost an fstat; changed
   * ones are sent as a new version; deleted ones are closed.
   */
  async refresh(connection: LanguageServerConnection): Promise<void> {
    // Changes announced on the bus are sent first: an answer must not overtake them.
    await this.settling;
    await this.refreshOpen(connection);
  }

  private async refreshOpen(connection: LanguageServerConnection): Promise<void> {
    await Promise.all(
      [...this.documents.values()].map((document) =>
        this.withDocument(document.path, async () => {
          if (this.documents.get(document.path) !== document) return;
          let state;
          try {
            state = await this.files.readIfChanged(this.workspace, document.path, document.stamp);
          } catch {
            // An editor's buffer outlives its file (the editor may save it again).
            if (document.holders.size > 0) document.diskSha256 = null;
            else this.close(connection, document.path);
            return;
          }
          if (state.content && this.applyText(document, state.stamp, state.content)) this.sendChange(connection, document);
        }),
      ),
    );
  }

  /**
   * After files changed on disk: open ones are brought up to date; for a server that wants it
   * (`openChangedFiles`), files of its languages that were created or changed are shown to it
   * (`introduce`, a few per change), so that the next answer counts them at once rather than
   * when the server's own file watching catches up; and servers that asked are told. Requests
   * wait for this work (`refresh`), so none overtakes it.
   */
  filesChanged(changes: readonly FileChange[]): Promise<void> {
    const work = this.settling.then(() => this.applyFileChanges(changes));
    this.settling = work.catch(() => undefined);
    return work;
  }

  private async applyFileChanges(changes: readonly FileChange[]): Promise<void> {
    const connection = this.connection;
    if (!connection || connection.isClosed) return;
    await this.refreshOpen(connection);
    const runtime = this.workspace.runtime;
    const touched = (this.spec.openChangedFiles ? changes : [])
      .filter((change) => change.kind !== 'deleted' && !change.directory && !this.documents.has(change.path))
      .map((change) => ({ path: change.path, language: this.registry.forPath(change.path, runtime) }))
      .filter(({ language }) => language?.spec.id === this.spec.id)
      .slice(0, INTRODUCED_PER_CHANGE);
    for (const { path, language } of touched) await this.introduce(connection, path, language!.languageId);
    const watched = watchedMatcher(connection.watchers());
    // An open document's text reaches the server as didChange: a watched-file event about it
    // as well would make some servers (pyright) publish a stale, empty report for it.
    const relevant = changes.filter((change) => watched(change.path) && !this.documents.has(change.path)).slice(0, 10_000);
    if (relevant.length === 0) return;
    const now = Date.now();
    for (const change of relevant) this.announced.set(change.path, now);
    if (this.announced.size > 10_000) this.announced.clear();
    const type = { created: 1, changed: 2, deleted: 3 } as const;
    connection.notify('workspace/didChangeWatchedFiles', { changes: relevant.map((change) => ({ uri: uriOf(change.path), type: type[change.kind] })) });
  }

  /**
   * Shows the server a file it may not know yet, opened and closed at once: tsserver puts an
   * opened file into its project then and keeps it there after the close, so the next answer
   * counts it, and the server holds no open document per file an agent touched (every open
   * document is checked against the disk before each request). A file gone or binary
   * meanwhile is simply skipped: the server's own file watching will tell it.
   */
  private async introduce(connection: LanguageServerConnection, path: string, languageId: string): Promise<void> {
    const state = await this.files.readIfChanged(this.workspace, path).catch(() => undefined);
    const text = state?.content && decodeText(state.content);
    if (text === undefined || this.documents.has(state!.path)) return;
    const uri = uriOf(state!.path);
    connection.notify('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
    connection.notify('textDocument/didClose', { textDocument: { uri } });
  }

  /**
   * The edit renaming the symbol at `position` makes, as the server computes it; the server
   * never applies it (CodeBuddy plans and applies). `textDocument/prepareRename` goes first
   * where the server offers it, so a position naming nothing renameable (a keyword, a
   * builtin) is refused with the server's reason instead of answered with an empty edit.
   * `oldName` is the name there, when the server or the document says it.
   */
  async rename(connection: LanguageServerConnection, document: OpenDocument, position: Position, newName: string): Promise<{ edit: WorkspaceEdit; oldName: string | undefined }> {
    const where = `${document.path}:${position.line + 1}:${position.character + 1}`;
    if (!connection.supports('textDocument/rename')) throw new CodeBuddyError('E_UNSUPPORTED', `the ${this.spec.id} language server does not rename`, { server: this.spec.id, method: 'textDocument/rename' });
    const refused = (why: string) => new CodeBuddyError('E_INVALID_ARGUMENT', `cannot rename at ${where}: ${why}`, { field: 'symbol', server: this.spec.id });
    const ask = async <R>(method: string, params: unknown): Promise<R> => {
      try {
        return await connection.request<R>(method, params, this.options.requestTimeoutMs);
      } catch (error) {
        // The server answered with an error (not a crash, not a timeout): its refusal of this position.
        if (error instanceof CodeBuddyError && typeof error.details?.lsp_code === 'number' && error.details.retryable !== true) throw refused(error.message);
        throw error;
      }
    };
    const at = { textDocument: { uri: document.uri }, position };
    const provider = connection.capabilities.renameProvider;
    let oldName: string | undefined;
    if (typeof provider === 'object' && provider.prepareProvider) {
      const prepared = await ask<PrepareRenameResult | null>('textDocument/prepareRename', at);
      if (!prepared) throw refused(`the ${this.spec.id} server says there is nothing it can rename there`);
      if ('placeholder' in prepared) oldName = prepared.placeholder;
      else if ('start' in prepared) oldName = new LineIndex(document.text).slice(prepared);
    }
    const edit = await ask<WorkspaceEdit | null>('textDocument/rename', { ...at, newName });
    if (!edit) throw refused(`the ${this.spec.id} server found nothing to rename there`);
    return { edit, oldName };
  }

  /** Waits (bounded) until the server has loaded what the document needs: its first diagnostics, or no work in progress for servers that are asked for them. */
  async untilReady(connection: LanguageServerConnection, document: OpenDocument): Promise<string | undefined> {
    const pulls = connection.supports('textDocument/diagnostic') && this.spec.diagnostics === 'auto';
    const ready = await this.waitFor(() => document.published || (pulls && !connection.indexing), this.options.readyTimeoutMs);
    if (ready || connection.isClosed) return undefined;
    return `the ${this.spec.id} server had not finished loading after ${this.options.readyTimeoutMs / 1000} s; the answer may be incomplete`;
  }

  /** Diagnostics of the document's current version: pulled where the server can be asked, else the pushed ones of that version, waited for (bounded). */
  async diagnostics(connection: LanguageServerConnection, document: OpenDocument): Promise<VersionedDiagnostics> {
    const version = document.version;
    const base = { path: document.path, version };
    if (this.spec.diagnostics === 'tsserver' && connection.supports('workspace/executeCommand', 'typescript.tsserverRequest')) {
      const note = await this.untilReady(connection, document);
      const items = await tsserverDiagnostics(connection, document.uri, this.options.requestTimeoutMs);
      return { ...base, items, fresh: true, ...(note ? { note } : {}) };
    }
    if (this.spec.diagnostics === 'auto' && connection.supports('textDocument/diagnostic')) {
      const previous = this.pulled.get(document.path);
      const report = await connection.request<DocumentDiagnosticReport>('textDocument/diagnostic', { textDocument: { uri: document.uri }, ...(previous?.resultId ? { previousResultId: previous.resultId } : {}) }, this.options.requestTimeoutMs);
      const items = report.kind === 'unchanged' ? (previous?.items ?? []) : report.items.slice(0, MAX_DIAGNOSTICS_PER_FILE);
      this.pulled.set(document.path, { ...(report.resultId ? { resultId: report.resultId } : {}), items });
      return { ...base, items, fresh: true };
    }
    const ofVersion = () => {
      const pushed = this.pushed.get(document.path);
      if (!pushed || document.version !== version) return false;
      return pushed.version !== null ? pushed.version === version : pushed.arrival > document.sentAt;
    };
    const fresh = await this.waitFor(ofVersion, this.options.readyTimeoutMs);
    const first = fresh ? this.pushed.get(document.path)! : undefined;
    // A first report that may be followed by the real one for the same version is given a moment:
    // - a file announced as a watched-file change just before it was opened: pyright answers
    //   that announcement with an empty report stamped with the open version, then the real one;
    // - another open file changed after this version was sent (a rename's second file): gopls
    //   type-checks a changed file at once, publishes, then publishes for the same version again
    //   once the other file's change reaches the package.
    if (first && ((first.items.length === 0 && this.announcedRecently(document.path)) || (first.count === 1 && this.changedSince(document)))) {
      await this.waitFor(() => this.pushed.get(document.path)!.arrival > first.arrival || document.version !== version, SETTLE_AFTER_ANNOUNCE_MS);
    }
    const pushed = this.pushed.get(document.path);
    if (fresh) return { ...base, items: pushed!.items, fresh: true };
    const seconds = this.options.readyTimeoutMs / 1000;
    return {
      ...base,
      items: pushed?.items ?? [],
      fresh: false,
      note: pushed
        ? `the ${this.spec.id} server sent no diagnostics for version ${version} within ${seconds} s; these are of ${pushed.version !== null ? `version ${pushed.version}` : 'an earlier version'}`
        : `the ${this.spec.id} server sent no diagnostics for ${document.path} within ${seconds} s`,
    };
  }
}

/**
 * Whether a workspace path is one the server's file watchers cover. Patterns are matched
 * against the path as the server names it (/workspace/...): a relative pattern from its base,
 * a string pattern as written (`**\/*.ts` matches anywhere).
 */
function watchedMatcher(watchers: ReturnType<LanguageServerConnection['watchers']>): (path: string) => boolean {
  const matchers = watchers.map(({ globPattern }) => {
    if (typeof globPattern === 'string') {
      const matches = pathGlob(globPattern.includes('/') ? globPattern : `**/${globPattern}`);
      return (path: string) => matches(`${WORKSPACE_MOUNT}/${path}`.slice(1)) || matches(path);
    }
    const baseUri = (typeof globPattern.baseUri === 'string' ? globPattern.baseUri : globPattern.baseUri.uri).replace(/\/$/, '');
    const base = pathOf(baseUri);
    if (baseUri !== ROOT_URI && !base.inside) return () => false;
    const prefix = base.inside ? `${base.path}/` : '';
    const matches = pathGlob(globPattern.pattern.includes('/') ? globPattern.pattern : `**/${globPattern.pattern}`);
    return (path: string) => path.startsWith(prefix) && matches(path.slice(prefix.length));
  });
  return (path) => matchers.some((matches) => matches(path));
}

function tail(lines: string[]): string {
  return lines.length === 0 ? '' : `; its last output: ${lines.slice(-3).join(' | ')}`;
}
