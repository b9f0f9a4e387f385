import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { ErrorCodes as RpcErrors, ResponseError, type CancellationToken, type MessageConnection } from 'vscode-jsonrpc';
import type { CodeAction, Diagnostic, InitializeParams, InitializeResult, Range, Registration, ServerCapabilities, TextDocumentContentChangeEvent } from 'vscode-languageserver-protocol';
import type { Principal } from '../../auth/principal.js';
import type { LanguageServerConnection } from '../../code/language-server-connection.js';
import type { ManagedLanguageServer, PublishedDiagnostics, RegistrationChange, ServerMessage } from '../../code/managed-language-server.js';
import { RawJson } from '../../code/raw-responses.js';
import { pathOf, ROOT_URI } from '../../code/workspace-uri.js';
import { CodeBuddyError, toCodeBuddyError } from '../../core/errors.js';
import { sha256 } from '../../files/text-content.js';
import type { Workspace } from '../../workspaces/workspace.js';
import { FACADE_COMMANDS, unionCapabilities } from './capability-union.js';
import { ForwardedRegistrations } from './forwarded-registrations.js';
import { LateCapabilities } from './late-capabilities.js';
import type { LspFacade } from './lsp-facade.js';
import { pendingCodeActions, pendingDiagnostics } from './pending-actions.js';
import { ProgressTokens } from './progress-tokens.js';
import { UriTranslator } from './uri-translation.js';

/**
 * The two LSP error codes the facade answers with (the specification's `LSPErrorCodes`).
 * Importing them from vscode-languageserver-protocol would load the whole protocol, 4-9 MiB
 * of runtime objects, into every process, editors connected or not.
 */
const LSPErrorCodes = { RequestFailed: -32803, RequestCancelled: -32800 } as const;

/** An editor's open document: its own URI and version, and the text of its buffer. */
interface EditorBuffer {
  uri: string;
  version: number;
  text: string;
  sha256: string;
  /** sha256 of the disk content last announced as differing, so one change is announced once. */
  announcedDisk?: string;
}

/** Most documents one editor may hold open on the servers. */
const MAX_BUFFERS = 500;

/** Logs and messages one editor is sent per second at most: a server flooding its log does not flood the editor. */
const MESSAGES_PER_SECOND = 100;

/** Requests resolved against the item they came with: routed to the server that gave the item. */
const RESOLVE_METHODS = new Set(['completionItem/resolve', 'codeAction/resolve', 'codeLens/resolve', 'documentLink/resolve', 'inlayHint/resolve', 'workspaceSymbol/resolve']);

/**
 * One editor connected to a workspace (over stdio or a WebSocket): its initialize, its
 * buffers, its requests routed by document to the workspace's language servers in the pool,
 * and what it is sent (diagnostics of its buffers merged with pending agent actions; disk
 * changes to documents it has open; action changes). Request ids are the editor's own: each
 * editor has its own JSON-RPC connection, each server request gets the server connection's
 * own id, and the editor's `$/cancelRequest` cancels exactly the server request made for it.
 */
export class EditorSession {
  /** Holder id of this editor's buffers in the pool. */
  readonly id = randomUUID();
  private translator = new UriTranslator(ROOT_URI);
  private initialized = false;
  private readonly buffers = new Map<string, EditorBuffer>();
  private readonly serverDiagnostics = new Map<string, Diagnostic[]>();
  /** Requests in flight per server, and when the last one started: server requests go to the editor that caused them. */
  private readonly inFlight = new Map<ManagedLanguageServer, { count: number; since: number }>();
  private lastServer: ManagedLanguageServer | undefined;
  private closed = false;
  private readonly progress = new ProgressTokens(this.id);
  /** The editor takes server-created progress (`window.workDoneProgress`). */
  private showsProgress = false;
  private readonly messageBudget = { second: 0, sent: 0, dropped: 0 };
  /** What the editor was told at initialize; what servers starting later add is registered with it. */
  private late: LateCapabilities | undefined;
  /** The servers' own registrations the editor was given. */
  private forwarded: ForwardedRegistrations | undefined;
  /**
   * Set at the editor's `initialized`: from then on servers that start, and what servers
   * register, are announced to it. Until then nothing is (LSP: a client learns of registrations
   * after `initialized`), and at that moment every server running is announced: one that
   * became ready while `initialize` was in flight, or after its answer, is not missed.
   */
  private announcing = false;

  constructor(
    private readonly connection: MessageConnection,
    readonly principal: Principal,
    readonly workspace: Workspace,
    private readonly facade: LspFacade,
  ) {}

  start(): void {
    this.connection.onRequest((method, params, token) => this.onRequest(method, params, token));
    this.connection.onNotification((method, params) => void this.onNotification(method, params).catch((error: unknown) => this.facade.logger.warn({ err: error, method }, 'an editor notification failed')));
    this.connection.onClose(() => this.close());
    this.connection.listen();
  }

  /** Called once the editor has gone (exit, or its connection closed). */
  onClosed: () => void = () => undefined;

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClosed();
    for (const path of this.buffers.keys()) void this.release(path);
    this.buffers.clear();
    this.facade.detach(this);
    this.connection.dispose();
  }

  /** When this editor's latest request to the server started, while one is in flight. */
  busyOn(server: ManagedLanguageServer): number | undefined {
    const entry = this.inFlight.get(server);
    return entry && entry.count > 0 ? entry.since : undefined;
  }

  /**
   * A server request this editor caused (an edit to apply, a document to show, a question to
   * ask): sent to it, URIs translated. The server is untrusted (it runs as workspace code): it
   * may only name documents inside the workspace, and never have the editor open a link.
   */
  async serverRequest(method: string, params: unknown): Promise<unknown> {
    if (method === 'window/showDocument' && ((params as { external?: boolean }).external === true || !pathOf(String((params as { uri?: unknown }).uri)).inside)) return { success: false };
    if (method === 'workspace/applyEdit' && !urisOf(params).every((uri) => pathOf(uri).inside)) return { applied: false, failureReason: 'CodeBuddy forwards only edits to documents in the workspace' };
    return this.translator.paramsToServer(await this.connection.sendRequest(method, this.translator.resultToClient(params)));
  }

  private async onRequest(method: string, params: unknown, token: CancellationToken): Promise<unknown> {
    try {
      if (method === 'initialize') return await this.initialize(params as InitializeParams);
      if (!this.initialized) throw new ResponseError(RpcErrors.ServerNotInitialized, 'initialize first');
      if (method === 'shutdown') return null;
      if (method === 'workspace/executeCommand') return await this.executeCommand(params as { command: string; arguments?: unknown[] }, token);
      if (method === 'workspace/symbol') return await this.workspaceSymbols(params, token);
      const uri = (params as { textDocument?: { uri?: unknown } } | undefined)?.textDocument?.uri;
      if (typeof uri === 'string') return await this.documentRequest(method, uri, params, token);
      if (RESOLVE_METHODS.has(method) && this.lastServer) return await this.forward(this.lastServer, method, params, token);
      throw new ResponseError(RpcErrors.MethodNotFound, `${method} is not served by CodeBuddy's LSP facade`);
    } catch (error) {
      throw this.asResponseError(error, token);
    }
  }

  private asResponseError(error: unknown, token: CancellationToken): ResponseError<unknown> {
    if (error instanceof ResponseError) return error;
    if (token.isCancellationRequested) return new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
    const failure = toCodeBuddyError(error);
    const lspCode = failure.details?.lsp_code;
    const code = typeof lspCode === 'number' ? lspCode : failure.code === 'E_UNSUPPORTED' ? RpcErrors.MethodNotFound : failure.code === 'E_INVALID_ARGUMENT' || failure.code === 'E_PATH_OUTSIDE_WORKSPACE' ? RpcErrors.InvalidParams : LSPErrorCodes.RequestFailed;
    return new ResponseError(code, `${failure.code}: ${failure.message}`, { code: failure.code });
  }

  private async initialize(params: InitializeParams): Promise<InitializeResult> {
    if (this.initialized) throw new ResponseError(RpcErrors.InvalidRequest, 'already initialized');
    const root = params.rootUri ?? params.workspaceFolders?.[0]?.uri ?? (this.workspace.runtime === 'local' ? pathToFileURL(this.workspace.root).href : ROOT_URI);
    this.translator = new UriTranslator(root);
    this.showsProgress = params.capabilities?.window?.workDoneProgress === true;
    const capabilities: ServerCapabilities[] = [];
    for (const spec of await this.facade.pool.relevant(this.workspace)) {
      const server = this.facade.server(this.workspace, spec);
      try {
        capabilities.push((await server.connect()).capabilities);
      } catch (error) {
        this.facade.logger.warn({ err: error, server: spec.id }, 'a language server did not start for an editor');
        // Told once the editor has its answer: it may not show messages before initialize ends.
        setImmediate(() => this.notify('window/showMessage', { type: 2, message: `the ${spec.id} language server did not start: ${toCodeBuddyError(error).message}` }));
      }
    }
    const union = unionCapabilities(capabilities);
    this.late = new LateCapabilities(union, params.capabilities ?? {});
    this.forwarded = new ForwardedRegistrations(this.late);
    this.initialized = true;
    return { capabilities: union, serverInfo: { name: 'codebuddy', version: this.facade.version } };
  }

  /** The canonical workspace path of an editor's URI; refused when it lies outside the editor's root. */
  private pathOf(uri: string): string {
    const serverUri = this.translator.toServer(uri);
    const mapped = serverUri === undefined ? undefined : pathOf(serverUri);
    if (!mapped?.inside || mapped.path.split('/').includes('..')) throw new CodeBuddyError('E_PATH_OUTSIDE_WORKSPACE', `${uri} is not in this workspace`, { field: 'uri' });
    return mapped.path;
  }

  private serverFor(path: string): { server: ManagedLanguageServer; languageId: string } | undefined {
    const match = this.facade.pool.registry.forPath(path, this.workspace.runtime);
    return match && { server: this.facade.server(this.workspace, match.spec), languageId: match.languageId };
  }

  /**
   * Sends a request for a document: the editor's buffer is shown to the server first (a new
   * version when another editor's, or the disk's, text is there), under the document's lock,
   * so the answer is about this editor's text; a document it has not opened is the disk's.
   */
  private async documentRequest(method: string, uri: string, params: unknown, token: CancellationToken): Promise<unknown> {
    const path = this.pathOf(uri);
    const ownCodeActions = method === 'textDocument/codeAction';
    const target = this.serverFor(path);
    let result: unknown = null;
    // Code actions are also the facade's own (pending actions): a server without them is not asked.
    const connection = target && (await target.server.connect());
    if (target && connection && (!ownCodeActions || connection.capabilities.codeActionProvider)) {
      const { server, languageId } = target;
      const buffer = this.buffers.get(path);
      // The answer is passed on as it is (code actions are the facade's to add to): a large one as text.
      const send = () => this.send(server, connection, method, this.translator.paramsToServer(params), token, undefined, !ownCodeActions);
      if (buffer) result = await (await server.showBuffer(connection, path, languageId, buffer.text, this.id, send, buffer.sha256)).sent;
      else {
        await server.open(connection, path, languageId);
        result = await send();
      }
      this.lastServer = server;
      result = result instanceof RawJson ? this.textToClient(server, method, result) : this.translator.resultToClient(result);
    }
    if (ownCodeActions) {
      const range = (params as { range: Range }).range;
      const own = pendingCodeActions(this.facade.pendingFor(this.workspace).filter((change) => change.path === path), range);
      return [...((result as CodeAction[] | null) ?? []), ...own];
    }
    if (!target) throw new CodeBuddyError('E_UNSUPPORTED', `no language server for ${path}`);
    return result;
  }

  /** A server's answer kept as text, its URIs made the editor's; refused when it is not valid JSON (the server is untrusted, the editor gets it as it is). */
  private textToClient(server: ManagedLanguageServer, method: string, result: RawJson): RawJson {
    const text = this.translator.textToClient(result.json);
    if (text === undefined) throw new CodeBuddyError('E_UNAVAILABLE', `the ${server.spec.id} language server answered ${method} with invalid JSON`, { server: server.spec.id, method });
    return new RawJson(text);
  }

  private send(server: ManagedLanguageServer, connection: LanguageServerConnection, method: string, params: unknown, token: CancellationToken, command?: string, passOn = false): Promise<unknown> {
    const entry = this.inFlight.get(server) ?? { count: 0, since: 0 };
    entry.count++;
    entry.since = Date.now();
    this.inFlight.set(server, entry);
    const tokens = this.progress.forRequest(server, params);
    const request = passOn ? connection.requestPassingOn(method, tokens.params, this.facade.requestTimeoutMs, command, token) : connection.request(method, tokens.params, this.facade.requestTimeoutMs, command, token);
    return request.finally(() => {
      entry.count--;
      tokens.release();
    });
  }

  /**
   * A server's progress, log or message. Progress of this editor's requests comes back under
   * its own tokens (partial results with their URIs translated); progress the server started
   * itself reaches every editor that takes progress, each told of the token first; logs and
   * messages reach every editor, within a per-second budget.
   */
  serverMessage(server: ManagedLanguageServer, method: ServerMessage, params: unknown): void {
    if (!this.initialized || this.closed) return;
    const token = (params as { token?: unknown } | null)?.token;
    if (method === 'window/workDoneProgress/create') {
      const editorToken = this.showsProgress && isToken(token) ? this.progress.created(server, server.spec.id, token) : undefined;
      if (editorToken !== undefined) void this.connection.sendRequest('window/workDoneProgress/create', { token: editorToken }).catch(() => undefined);
      return;
    }
    if (method === '$/progress') {
      if (!isToken(token)) return;
      const value = (params as { value?: unknown }).value;
      const ofRequest = this.progress.ofRequest(server, token);
      // Only this editor holds the token: its value is translated in place.
      if (ofRequest !== undefined) return this.notify('$/progress', { token: ofRequest, value: this.translator.resultToClient(value) });
      const ofServer = this.progress.ofServer(server, server.spec.id, token);
      if (ofServer === undefined) return;
      if ((value as { kind?: unknown } | null)?.kind === 'end') this.progress.ended(ofServer);
      return this.notify('$/progress', { token: ofServer, value });
    }
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.messageBudget.second) {
      if (this.messageBudget.dropped > 0) this.notify('window/logMessage', { type: 2, message: `CodeBuddy dropped ${this.messageBudget.dropped} log messages of the language servers (more than ${MESSAGES_PER_SECOND} a second)` });
      Object.assign(this.messageBudget, { second, sent: 0, dropped: 0 });
    }
    if (this.messageBudget.sent++ < MESSAGES_PER_SECOND) this.notify(method, params);
    else this.messageBudget.dropped++;
  }

  /**
   * A server of the workspace started (lazily, after this editor initialized: the first file of
   * its language opened, by this editor, another or an agent): what it offers that the editor
   * was not told is registered with the editor, for the server's documents, where the editor
   * takes dynamic registration. Otherwise the facade still routes such requests when they come.
   */
  serverStarted(server: ManagedLanguageServer): void {
    const capabilities = server.capabilities;
    if (!this.announcing || this.closed || !this.late || !capabilities) return;
    const registrations = this.late.registrationsFor(server.spec.id, capabilities, patternsOf(server));
    this.register(server, registrations);
    // What the run registered before anyone listened (during its initialize, or before this editor came).
    this.serverRegistered(server, { added: server.registrations, removed: [] });
  }

  /** A server registered or unregistered capabilities (or lost them with its run): the editor is given its share. */
  serverRegistered(server: ManagedLanguageServer, change: RegistrationChange): void {
    if (!this.announcing || this.closed || !this.forwarded) return;
    const unregisterations = this.forwarded.unregister(server.spec.id, change.removed);
    if (unregisterations.length > 0) {
      void this.connection.sendRequest('client/unregisterCapability', { unregisterations }).catch((error: unknown) => this.facade.logger.debug({ err: error, server: server.spec.id }, 'an editor refused a capability unregistration'));
      // A command is given once, as the first registering server's: one another server still offers is given again, as that one's.
      if (unregisterations.some((unregistration) => unregistration.method === 'workspace/executeCommand')) {
        for (const other of this.facade.pool.of(this.workspace.id)) {
          if (other !== server) this.register(other, this.forwarded.register(other.spec.id, patternsOf(other), other.registrations));
        }
      }
    }
    this.register(server, this.forwarded.register(server.spec.id, patternsOf(server), change.added));
  }

  /** Sends registrations (a selector's `baseUri` made the editor's, on a copy: the pool's are every editor's); one the editor refuses or fails is forgotten, and concerns no one else. */
  private register(server: ManagedLanguageServer, registrations: Registration[]): void {
    if (registrations.length === 0) return;
    void this.connection.sendRequest('client/registerCapability', { registrations: this.translator.resultToClient(structuredClone(registrations)) }).catch((error: unknown) => {
      this.forwarded?.refused(registrations);
      this.facade.logger.debug({ err: error, server: server.spec.id }, 'an editor refused a capability registration');
    });
  }

  /** The editor's `initialized`: every server running now is announced (once: what it was told already is not told again). */
  private announceAll(): void {
    if (this.announcing) return;
    this.announcing = true;
    for (const server of this.facade.pool.of(this.workspace.id)) this.serverStarted(server);
  }

  /** An editor cancels a progress shown to it: the server that reports it is told, under its own token. */
  private async cancelProgress(editorToken: unknown): Promise<void> {
    const target = isToken(editorToken) ? this.progress.toServer(editorToken) : undefined;
    if (!target) return;
    const server = target.server as ManagedLanguageServer;
    (await server.connect()).notify('window/workDoneProgress/cancel', { token: target.token });
  }

  private async forward(server: ManagedLanguageServer, method: string, params: unknown, token: CancellationToken, command?: string): Promise<unknown> {
    const connection = await server.connect();
    return this.translator.resultToClient(await this.send(server, connection, method, this.translator.paramsToServer(params), token, command));
  }

  /** Workspace symbols from every server running for the workspace, one list. */
  private async workspaceSymbols(params: unknown, token: CancellationToken): Promise<unknown[]> {
    const servers = this.facade.pool.of(this.workspace.id).filter((server) => server.state === 'ready' || server.state === 'indexing');
    const answers = await Promise.all(servers.map((server) => this.forward(server, 'workspace/symbol', params, token).catch(() => null)));
    return answers.flatMap((answer) => (Array.isArray(answer) ? answer : []));
  }

  private async executeCommand(params: { command: string; arguments?: unknown[] }, token: CancellationToken): Promise<unknown> {
    if ((FACADE_COMMANDS as readonly string[]).includes(params.command)) return this.facade.command(this.principal, params.command as (typeof FACADE_COMMANDS)[number], params.arguments ?? []);
    for (const server of this.facade.pool.of(this.workspace.id)) {
      const connection = await server.connect().catch(() => undefined);
      if (connection?.supports('workspace/executeCommand', params.command)) return this.forward(server, 'workspace/executeCommand', params, token, params.command);
    }
    throw new ResponseError(RpcErrors.MethodNotFound, `no language server here offers ${params.command}`);
  }

  private async onNotification(method: string, params: unknown): Promise<void> {
    if (method === 'exit') return this.close();
    if (!this.initialized) return;
    if (method === 'initialized') return this.announceAll();
    if (method === 'window/workDoneProgress/cancel') return this.cancelProgress((params as { token?: unknown } | null)?.token);
    const document = (params as { textDocument?: { uri?: string; version?: number; text?: string } }).textDocument;
    if (typeof document?.uri !== 'string') return;
    const path = this.pathOf(document.uri);
    if (method === 'textDocument/didOpen') {
      if (this.buffers.size >= MAX_BUFFERS && !this.buffers.has(path)) {
        // Held buffers are never closed by the pool: one editor must not fill a server with them.
        this.notify('window/showMessage', { type: 2, message: `CodeBuddy keeps at most ${MAX_BUFFERS} open documents per editor; ${path} is not sent to the language server` });
        return;
      }
      const text = document.text ?? '';
      this.buffers.set(path, { uri: document.uri, version: document.version ?? 0, text, sha256: sha256(text) });
      // Pending actions show at once; otherwise the first publication is the server's.
      if (this.facade.pendingFor(this.workspace).some((change) => change.path === path)) this.publish(path);
      await this.show(path);
    } else if (method === 'textDocument/didChange') {
      const buffer = this.buffers.get(path);
      if (!buffer) return;
      buffer.text = applyChanges(buffer.text, (params as { contentChanges: TextDocumentContentChangeEvent[] }).contentChanges ?? []);
      buffer.sha256 = sha256(buffer.text);
      buffer.version = document.version ?? buffer.version + 1;
      await this.show(path);
    } else if (method === 'textDocument/didClose') {
      const buffer = this.buffers.get(path);
      if (!buffer) return;
      this.buffers.delete(path);
      this.serverDiagnostics.delete(path);
      void this.connection.sendNotification('textDocument/publishDiagnostics', { uri: buffer.uri, diagnostics: [] }).catch(() => undefined);
      await this.release(path);
    }
    // didSave: the disk change reaches the pool through the watcher; configuration and watched
    // files are the pool's business (its servers are shared; their settings are CodeBuddy's).
  }

  /** Shows the editor's buffer to its server at once, so diagnostics follow typing; already current diagnostics are delivered too. */
  private async show(path: string): Promise<void> {
    const target = this.serverFor(path);
    const buffer = this.buffers.get(path);
    if (!target || !buffer) return;
    const connection = await target.server.connect();
    await target.server.showBuffer(connection, path, target.languageId, buffer.text, this.id, () => undefined, buffer.sha256);
    const latest = target.server.latestDiagnostics(path);
    if (latest) this.serverPublished(target.server, latest);
  }

  private async release(path: string): Promise<void> {
    await this.serverFor(path)?.server.releaseBuffer(path, this.id);
  }

  /** A server published diagnostics: kept and sent when they are of the text this editor has. */
  serverPublished(server: ManagedLanguageServer, published: PublishedDiagnostics): void {
    const buffer = this.buffers.get(published.path);
    const shown = server.shown(published.path);
    if (!buffer || !shown || shown.sha256 !== buffer.sha256 || shown.version !== published.version) return;
    // A copy: the pool keeps these items (the MCP tools read them) and every editor translates to its own root.
    this.serverDiagnostics.set(published.path, this.translator.resultToClient(structuredClone(published.items)));
    this.publish(published.path);
  }

  /** Sends the diagnostics of an open document: the server's for this buffer, and the pending actions on it. */
  publish(path: string): void {
    const buffer = this.buffers.get(path);
    if (!buffer || this.closed) return;
    const pending = pendingDiagnostics(this.facade.pendingFor(this.workspace).filter((change) => change.path === path));
    const diagnostics = [...(this.serverDiagnostics.get(path) ?? []), ...pending];
    void this.connection.sendNotification('textDocument/publishDiagnostics', { uri: buffer.uri, version: buffer.version, diagnostics }).catch(() => undefined);
  }

  /** Every open document's diagnostics again (pending actions changed). */
  publishAll(): void {
    for (const path of this.buffers.keys()) this.publish(path);
  }

  notify(method: string, params: unknown): void {
    if (!this.closed) void this.connection.sendNotification(method, params).catch(() => undefined);
  }

  /** A file changed on disk: an editor holding it open with other text is told once per disk content. */
  async diskChanged(path: string, diskSha256: string | null, actionId: string | undefined): Promise<void> {
    const buffer = this.buffers.get(path);
    if (!buffer || buffer.sha256 === diskSha256 || buffer.announcedDisk === (diskSha256 ?? 'deleted')) return;
    buffer.announcedDisk = diskSha256 ?? 'deleted';
    const by = actionId ? ` by action ${actionId}` : '';
    this.notify('codebuddy/fileChanged', { uri: buffer.uri, deleted: diskSha256 === null, ...(actionId ? { actionId } : {}) });
    this.notify('window/showMessage', { type: 3, message: `${path} ${diskSha256 === null ? 'was deleted' : 'changed'} on disk${by}; the language server sees your buffer until you reload it` });
  }

  get openPaths(): string[] {
    return [...this.buffers.keys()];
  }
}

/** A server's documents as editors match them: a workspace-relative glob is made to match at any depth. */
function patternsOf(server: ManagedLanguageServer): string[] {
  return server.spec.languages.flatMap((language) => language.patterns.map((pattern) => (pattern.startsWith('**/') ? pattern : `**/${pattern}`)));
}

function isToken(token: unknown): token is string | number {
  return typeof token === 'string' || typeof token === 'number';
}

/** Every URI a workspace edit names: its `changes` keys, and its document changes' and resource operations' URIs. */
function urisOf(params: unknown): string[] {
  const edit = (params as { edit?: { changes?: Record<string, unknown>; documentChanges?: { textDocument?: { uri?: string }; uri?: string; oldUri?: string; newUri?: string }[] } }).edit ?? {};
  const fromChanges = Object.keys(edit.changes ?? {});
  const fromDocuments = (edit.documentChanges ?? []).flatMap((change) => [change.textDocument?.uri, change.uri, change.oldUri, change.newUri].filter((uri): uri is string => uri !== undefined));
  return [...fromChanges, ...fromDocuments];
}

/** Full-text changes replace the buffer; ranged ones (a client ignoring our Full sync) are applied in UTF-16 units. */
export function applyChanges(text: string, changes: readonly TextDocumentContentChangeEvent[]): string {
  for (const change of changes) {
    if (!('range' in change) || !change.range) {
      text = change.text;
      continue;
    }
    const offset = (line: number, character: number) => {
      let at = 0;
      for (let i = 0; i < line; i++) {
        const next = text.indexOf('\n', at);
        if (next === -1) return text.length;
        at = next + 1;
      }
      const end = text.indexOf('\n', at);
      return Math.min(at + character, end === -1 ? text.length : end);
    };
    const start = offset(change.range.start.line, change.range.start.character);
    const end = offset(change.range.end.line, change.range.end.character);
    text = text.slice(0, start) + change.text + text.slice(Math.max(start, end));
  }
  return text;
}
