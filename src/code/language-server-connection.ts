import { CancellationTokenSource, createMessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter, type CancellationToken, type MessageConnection } from 'vscode-jsonrpc/node';
import type {
  ConfigurationParams,
  InitializeParams,
  InitializeResult,
  PublishDiagnosticsParams,
  Registration,
  RegistrationParams,
  ServerCapabilities,
  UnregistrationParams,
  WorkDoneProgressBegin,
  WorkDoneProgressEnd,
  WorkDoneProgressReport,
} from 'vscode-languageserver-protocol';
import { CodeBuddyError } from '../core/errors.js';
import type { StdioProcess } from '../workspaces/runtimes/runtime.js';
import { MessageSizeGuard } from './message-size-guard.js';
import { RawResponses, type RawJson } from './raw-responses.js';
import type { ServerSpec } from './server-registry.js';
import { ROOT_URI } from './workspace-uri.js';

const STDERR_LINES = 20;
const STDERR_LINE_CHARS = 500;
const SHUTDOWN_GRACE_MS = 2_000;
/** Most registrations one server holds at once: an untrusted server cannot grow the map without end. */
const MAX_REGISTRATIONS = 1_000;

/** Which capability a request needs; a request not listed needs none. */
const CAPABILITY_OF: Record<string, keyof ServerCapabilities> = {
  'textDocument/definition': 'definitionProvider',
  'textDocument/references': 'referencesProvider',
  'textDocument/hover': 'hoverProvider',
  'textDocument/documentSymbol': 'documentSymbolProvider',
  'workspace/symbol': 'workspaceSymbolProvider',
  'textDocument/diagnostic': 'diagnosticProvider',
  'workspace/executeCommand': 'executeCommandProvider',
  'textDocument/rename': 'renameProvider',
};

/** What the server tells its owner as it happens. */
export interface ConnectionListener {
  diagnostics(params: PublishDiagnosticsParams): void;
  /** Work-done progress started or ended (indexing). */
  progress(active: boolean): void;
  /**
   * A server request an editor may answer (`workspace/applyEdit`, `window/showMessageRequest`,
   * `window/showDocument`): the answer, or undefined for the read-only client's own answer.
   */
  serverRequest?(method: string, params: unknown): Promise<unknown> | undefined;
  /**
   * What a server tells the human at an editor (FORWARDED_SERVER_MESSAGES): its progress, its
   * logs and messages. `window/workDoneProgress/create` is answered here at once (a server
   * never waits on an editor) and reported as a notification of the token.
   */
  serverMessage?(method: (typeof FORWARDED_SERVER_MESSAGES)[number], params: unknown): void;
  /** The server registered (`added`) or unregistered (`removed`) capabilities; a replaced id is in both. */
  registrations?(added: readonly Registration[], removed: readonly Registration[]): void;
}

/** Server messages an editor may want: progress (and the creation of its token), logs, messages, traces. */
export const FORWARDED_SERVER_MESSAGES = ['window/workDoneProgress/create', '$/progress', 'window/logMessage', 'window/showMessage', '$/logTrace'] as const;

/** Server requests that concern the human at an editor: routed to one when an editor caused them. */
export const ROUTABLE_SERVER_REQUESTS = ['workspace/applyEdit', 'window/showMessageRequest', 'window/showDocument'] as const;

/**
 * What CodeBuddy, as a client, can do: it syncs full documents and reads; it asks for rename
 * edits (file operations included) and turns them into plans; an edit a server wants applied
 * goes to the editor that caused it, or is refused.
 */
function clientCapabilities(): InitializeParams['capabilities'] {
  return {
    general: { positionEncodings: ['utf-16'] },
    window: { workDoneProgress: true, showMessage: {}, showDocument: { support: false } },
    workspace: {
      // Edits a server asks for while an editor's command runs go to that editor (the human's
      // buffer); any other is refused: agents' edits go through the tools.
      applyEdit: true,
      configuration: true,
      workspaceFolders: true,
      didChangeWatchedFiles: { dynamicRegistration: true, relativePatternSupport: true },
      didChangeConfiguration: { dynamicRegistration: false },
      symbol: { dynamicRegistration: false },
      executeCommand: { dynamicRegistration: false },
      workspaceEdit: { documentChanges: true, resourceOperations: ['create', 'rename', 'delete'], failureHandling: 'abort' },
    },
    textDocument: {
      synchronization: { dynamicRegistration: false, didSave: false, willSave: false, willSaveWaitUntil: false },
      definition: { dynamicRegistration: false, linkSupport: false },
      references: { dynamicRegistration: false },
      hover: { dynamicRegistration: false, contentFormat: ['plaintext', 'markdown'] },
      documentSymbol: { dynamicRegistration: false, hierarchicalDocumentSymbolSupport: true },
      publishDiagnostics: { relatedInformation: false, versionSupport: true },
      diagnostic: { dynamicRegistration: false },
      rename: { dynamicRegistration: false, prepareSupport: true },
    },
  };
}

/** A dotted section (`python.analysis`) of the server's settings, or null. */
function section(settings: Record<string, unknown>, name: string | undefined): unknown {
  if (!name) return settings;
  let value: unknown = settings;
  for (const part of name.split('.')) {
    if (value === null || typeof value !== 'object' || !(part in value)) return null;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

export function unavailable(message: string): CodeBuddyError {
  return new CodeBuddyError('E_UNAVAILABLE', message, { retryable: true });
}

/**
 * One run of a language server: the JSON-RPC connection over its stdio, its capabilities,
 * what it registered, its work-done progress and the tail of its stderr. Requests are bounded
 * in time and refused at once when the server never advertised them; the server's own
 * requests are answered as a read-only client would (edits are refused: they go through
 * CodeBuddy's tools). When the process ends, every request in flight fails as retryable.
 */
export class LanguageServerConnection {
  capabilities: ServerCapabilities = {};
  /** Requests registered dynamically (`client/registerCapability`), by registration id. */
  readonly registrations = new Map<string, Registration>();
  private readonly stderr: string[] = [];
  private stderrPartial = '';
  private readonly connection: MessageConnection;
  private readonly raw = new RawResponses();
  private readonly activeProgress = new Set<string | number>();
  private readonly pending = new Set<(error: CodeBuddyError) => void>();
  private closedWith: string | undefined;
  /** Settles with why the server is gone. */
  readonly closed: Promise<string>;

  constructor(
    private readonly child: StdioProcess,
    private readonly spec: ServerSpec,
    maxMessageBytes: number,
    private readonly listener: ConnectionListener,
  ) {
    const guard = new MessageSizeGuard(maxMessageBytes);
    let guardError: string | undefined;
    guard.on('error', (error) => {
      guardError = error.message;
      child.kill();
    });
    child.stdout.pipe(guard);
    child.stderr.on('data', (chunk: Buffer) => this.keepStderr(chunk.toString('utf8')));
    child.stdin.on('error', () => undefined);
    this.connection = createMessageConnection(new StreamMessageReader(guard, { contentTypeDecoder: this.raw.decoder }), this.raw.writer(new StreamMessageWriter(child.stdin)));
    this.answerServerRequests();
    this.closed = new Promise<string>((resolve) => {
      const close = (why: string) => {
        if (this.closedWith !== undefined) return;
        this.closedWith = guardError ?? why;
        for (const reject of [...this.pending]) reject(unavailable(`the ${spec.id} language server stopped (${this.closedWith}); retry`));
        this.connection.dispose();
        child.kill();
        resolve(this.closedWith);
      };
      const exitReason = child.exited.then(({ exitCode, signal }) => (signal ? `killed by ${signal}` : `exit ${exitCode ?? 'unknown'}`));
      void exitReason.then(close);
      // Its stdout often ends a moment before its exit is reported: give the exit that moment to name the cause.
      this.connection.onClose(() => void Promise.race([exitReason, new Promise<string>((settle) => setTimeout(() => settle('its connection closed'), 1_000).unref())]).then(close));
      this.connection.onError(([error]) => close(`protocol error: ${error.message}`));
    });
    this.connection.listen();
  }

  get isClosed(): boolean {
    return this.closedWith !== undefined;
  }

  get indexing(): boolean {
    return this.activeProgress.size > 0;
  }

  get lastStderr(): string[] {
    return this.stderrPartial ? [...this.stderr, this.stderrPartial].slice(-STDERR_LINES) : [...this.stderr];
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private keepStderr(text: string): void {
    const lines = (this.stderrPartial + text).split('\n');
    this.stderrPartial = (lines.pop() ?? '').slice(0, STDERR_LINE_CHARS);
    for (const line of lines) if (line.trim()) this.stderr.push(line.slice(0, STDERR_LINE_CHARS));
    if (this.stderr.length > STDERR_LINES) this.stderr.splice(0, this.stderr.length - STDERR_LINES);
  }

  private answerServerRequests(): void {
    const { connection, spec } = this;
    const routed = (method: (typeof ROUTABLE_SERVER_REQUESTS)[number], fallback: () => unknown) =>
      connection.onRequest(method, (params: unknown) => this.listener.serverRequest?.(method, params) ?? fallback());
    routed('workspace/applyEdit', () => ({ applied: false, failureReason: 'CodeBuddy applies edits only through its tools' }));
    routed('window/showMessageRequest', () => null);
    routed('window/showDocument', () => ({ success: false }));
    connection.onRequest('workspace/configuration', (params: ConfigurationParams) => params.items.map((item) => section(spec.settings, item.section)));
    connection.onRequest('workspace/workspaceFolders', () => [{ uri: ROOT_URI, name: 'workspace' }]);
    connection.onRequest('window/workDoneProgress/create', (params: unknown) => {
      this.listener.serverMessage?.('window/workDoneProgress/create', params);
      return null;
    });
    // Answered here at once, whatever editors make of them (the facade forwards some): a server never waits on an editor.
    connection.onRequest('client/registerCapability', (params: RegistrationParams) => {
      const added: Registration[] = [];
      const removed: Registration[] = [];
      for (const registration of (Array.isArray(params?.registrations) ? params.registrations : []).slice(0, 100)) {
        if (typeof registration?.id !== 'string' || typeof registration.method !== 'string') continue;
        const previous = this.registrations.get(registration.id);
        if (!previous && this.registrations.size >= MAX_REGISTRATIONS) break;
        // The same id again replaces the registration: whoever was told of the old one is told it is gone.
        if (previous) removed.push(previous);
        this.registrations.set(registration.id, registration);
        added.push(registration);
      }
      if (added.length > 0) this.listener.registrations?.(added, removed);
      return null;
    });
    connection.onRequest('client/unregisterCapability', (params: UnregistrationParams) => {
      const removed: Registration[] = [];
      for (const { id } of Array.isArray(params?.unregisterations) ? params.unregisterations : []) {
        const registration = this.registrations.get(id);
        if (!registration) continue;
        this.registrations.delete(id);
        removed.push(registration);
      }
      if (removed.length > 0) this.listener.registrations?.([], removed);
      return null;
    });
    for (const refresh of ['workspace/semanticTokens/refresh', 'workspace/codeLens/refresh', 'workspace/inlayHint/refresh', 'workspace/inlineValue/refresh', 'workspace/diagnostic/refresh', 'workspace/foldingRange/refresh']) {
      connection.onRequest(refresh, () => null);
    }
    connection.onNotification('textDocument/publishDiagnostics', (params: PublishDiagnosticsParams) => this.listener.diagnostics(params));
    connection.onNotification('$/progress', (params: { token: string | number; value: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd }) => {
      const kind = (params.value as { kind?: string } | null)?.kind;
      this.listener.serverMessage?.('$/progress', params);
      if (kind === 'begin' && this.activeProgress.size < 1000) this.activeProgress.add(params.token);
      else if (kind === 'end') this.activeProgress.delete(params.token);
      else return;
      this.listener.progress(this.activeProgress.size > 0);
    });
    // Logs and messages are not the agent's business: they reach editors, if any; telemetry is dropped.
    for (const method of ['window/logMessage', 'window/showMessage', '$/logTrace'] as const) connection.onNotification(method, (params: unknown) => this.listener.serverMessage?.(method, params));
    connection.onNotification('telemetry/event', () => undefined);
  }

  /** `initialize` then `initialized`, bounded in time; the capabilities are kept. */
  async initialize(timeoutMs: number): Promise<void> {
    const params: InitializeParams = {
      processId: null,
      clientInfo: { name: 'codebuddy' },
      rootUri: ROOT_URI,
      rootPath: '/workspace',
      workspaceFolders: [{ uri: ROOT_URI, name: 'workspace' }],
      capabilities: clientCapabilities(),
      initializationOptions: this.spec.initializationOptions ?? null,
    };
    const result = await this.request<InitializeResult>('initialize', params, timeoutMs);
    this.capabilities = result?.capabilities ?? {};
    await this.connection.sendNotification('initialized', {});
    if (Object.keys(this.spec.settings).length > 0) await this.connection.sendNotification('workspace/didChangeConfiguration', { settings: this.spec.settings });
  }

  /** Whether the server offers a request: advertised at initialize, or registered since. */
  supports(method: string, command?: string): boolean {
    // A command is offered when a registration names it, not by any registration of executeCommand.
    const names = (registration: Registration) => {
      const commands = (registration.registerOptions as { commands?: unknown } | undefined)?.commands;
      return command === undefined || (Array.isArray(commands) && commands.includes(command));
    };
    if ([...this.registrations.values()].some((registration) => registration.method === method && names(registration))) return true;
    const key = CAPABILITY_OF[method];
    if (!key) return true;
    const capability = this.capabilities[key];
    if (command !== undefined) return ((capability as { commands?: string[] } | undefined)?.commands ?? []).includes(command);
    return capability !== undefined && capability !== false && capability !== null;
  }

  /** Watchers the server registered for `workspace/didChangeWatchedFiles`. */
  watchers(): { globPattern: string | { baseUri: string | { uri: string }; pattern: string } }[] {
    return [...this.registrations.values()]
      .filter((registration) => registration.method === 'workspace/didChangeWatchedFiles')
      .flatMap((registration) => (registration.registerOptions as { watchers?: { globPattern: never }[] } | undefined)?.watchers ?? []);
  }

  /**
   * A request whose result is passed on rather than read (the LSP facade's answers to
   * editors): a large one comes as its JSON text, unparsed and unvalidated (RawJson).
   */
  requestPassingOn(method: string, params: unknown, timeoutMs: number, command?: string, caller?: CancellationToken): Promise<unknown | RawJson> {
    if (typeof params === 'object' && params !== null) this.raw.want(params);
    return this.request(method, params, timeoutMs, command, caller);
  }

  /**
   * A request, refused at once (E_UNSUPPORTED) when the server does not offer it, cancelled
   * and failed (E_TIMEOUT) when its time is up, failed as retryable (E_UNAVAILABLE) when the
   * server goes away meanwhile.
   */
  request<R>(method: string, params: unknown, timeoutMs: number, command?: string, caller?: CancellationToken): Promise<R> {
    if (this.closedWith !== undefined) return Promise.reject(unavailable(`the ${this.spec.id} language server stopped (${this.closedWith}); retry`));
    if (method !== 'initialize' && method !== 'shutdown' && !this.supports(method, command)) {
      return Promise.reject(new CodeBuddyError('E_UNSUPPORTED', `the ${this.spec.id} language server does not support ${command ?? method}`, { server: this.spec.id, method }));
    }
    const cancel = new CancellationTokenSource();
    // An editor's $/cancelRequest reaches the server as a cancel of the server's own id for it.
    return new Promise<R>((resolve, reject) => {
      const fail = (error: CodeBuddyError) => {
        settle();
        reject(error);
      };
      const timer = setTimeout(() => {
        cancel.cancel();
        fail(new CodeBuddyError('E_TIMEOUT', `the ${this.spec.id} language server did not answer ${method} within ${Math.round(timeoutMs / 100) / 10} s (codeRequestTimeoutSeconds)`, { server: this.spec.id, method, retryable: true }));
      }, timeoutMs);
      const settle = () => {
        clearTimeout(timer);
        this.pending.delete(fail);
        relay?.dispose();
        cancel.dispose();
      };
      this.pending.add(fail);
      // The caller is answered at once (-32800, as LSP names a cancelled request): a server may answer a cancelled request late or never.
      const relay = caller?.onCancellationRequested(() => {
        cancel.cancel();
        fail(new CodeBuddyError('E_UNAVAILABLE', `${method} was cancelled`, { server: this.spec.id, method, lsp_code: -32800 }));
      });
      let sent: Promise<unknown>;
      try {
        sent = this.connection.sendRequest(method, params, cancel.token);
      } catch {
        // The stream ended a moment before the exit is reported (see `closed`): vscode-jsonrpc
        // throws "Connection is closed" synchronously. The server is gone: retryable, like a crash.
        fail(unavailable(`the ${this.spec.id} language server stopped (${this.closedWith ?? 'connection lost'}); retry`));
        return;
      }
      sent.then(
        (result) => {
          if (!this.pending.has(fail)) return;
          settle();
          resolve(result as R);
        },
        (error: unknown) => {
          if (!this.pending.has(fail)) return;
          if (error instanceof ResponseError) fail(new CodeBuddyError('E_UNAVAILABLE', `the ${this.spec.id} language server answered ${method} with an error: ${error.message.slice(0, 300)}`, { server: this.spec.id, method, retryable: error.code === -32801 || error.code === -32802, lsp_code: error.code }));
          else fail(unavailable(`the ${this.spec.id} language server stopped (${this.closedWith ?? 'connection lost'}); retry`));
        },
      );
    });
  }

  notify(method: string, params: unknown): void {
    if (this.closedWith !== undefined) return;
    try {
      this.connection.sendNotification(method, params).catch(() => undefined);
    } catch {
      // closed a moment before `closed` settles: the notification is moot, the next request says so
    }
  }

  /** `shutdown` and `exit` when it still answers, then the process tree is killed regardless. */
  async stop(): Promise<void> {
    if (this.closedWith === undefined) {
      await this.request('shutdown', null, SHUTDOWN_GRACE_MS).catch(() => undefined);
      this.notify('exit', null);
      await Promise.race([this.closed, new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref())]);
    }
    this.child.kill();
    await this.closed;
  }
}
