import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type { PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import WebSocket from 'ws';
import { SocketMessageReader, SocketMessageWriter } from '../../src/faces/lsp/socket-transport.js';

/** A real vscode-jsonrpc client and the diagnostics it was sent, by URI, with a way to wait for them. */
export interface LspClient {
  connection: MessageConnection;
  diagnostics: Map<string, PublishDiagnosticsParams>;
  notifications: { method: string; params: unknown }[];
  /** Resolves with the first publication for `uri` that satisfies `accept`, already received or to come. */
  diagnosticsFor(uri: string, accept?: (params: PublishDiagnosticsParams) => boolean, timeoutMs?: number): Promise<PublishDiagnosticsParams>;
  /** Resolves with the first notification of `method` (received from now on, or already) that satisfies `accept`. */
  notification(method: string, accept?: (params: unknown) => boolean, timeoutMs?: number): Promise<unknown>;
  /** `initialize` then `initialized`; `more` capabilities added to each section (by default none for `window`: no progress, and no dynamic registration). */
  initialize(rootUri: string, more?: { window?: Record<string, unknown>; textDocument?: Record<string, unknown>; workspace?: Record<string, unknown> }): Promise<{ capabilities: Record<string, unknown> }>;
  open(uri: string, text: string, version?: number, languageId?: string): Promise<void>;
  close(): Promise<void>;
}

export function lspClient(reader: NodeJS.ReadableStream, writer: NodeJS.WritableStream, onClose: () => Promise<void> | void = () => undefined): LspClient {
  return lspClientOn(createMessageConnection(new StreamMessageReader(reader), new StreamMessageWriter(writer)), onClose);
}

/** A client over `/lsp/:workspace` (one JSON-RPC message per frame), once the socket is open; rejects with the close code and reason when refused. */
export async function socketClient(url: string, headers: Record<string, string> = {}): Promise<LspClient & { socket: WebSocket }> {
  const socket = new WebSocket(url, { headers });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('close', (code, reason) => reject(Object.assign(new Error(`closed ${code}`), { code, reason: reason.toString() })));
    socket.once('error', reject);
  });
  // A refusal after the upgrade (4401, 4404) arrives as a close right after open.
  const client = lspClientOn(createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket)), () => socket.close());
  return Object.assign(client, { socket });
}

/** How a socket ended: its close code and reason. */
export function closeOf(socket: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

function lspClientOn(connection: MessageConnection, onClose: () => Promise<void> | void): LspClient {
  const diagnostics = new Map<string, PublishDiagnosticsParams>();
  const notifications: { method: string; params: unknown }[] = [];
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of [...waiters]) waiter();
  };
  connection.onNotification('textDocument/publishDiagnostics', (params: PublishDiagnosticsParams) => {
    diagnostics.set(params.uri, params);
    notifications.push({ method: 'textDocument/publishDiagnostics', params });
    wake();
  });
  connection.onNotification((method, params) => {
    notifications.push({ method, params });
    wake();
  });
  // vscode-jsonrpc keeps these two for itself unless a handler is named for them.
  for (const method of ['$/progress', '$/logTrace']) {
    connection.onNotification(method, (params: unknown) => {
      notifications.push({ method, params });
      wake();
    });
  }
  // An editor applies the edits a server asks for (recorded, like notifications).
  connection.onRequest('workspace/applyEdit', (params: unknown) => {
    notifications.push({ method: 'workspace/applyEdit', params });
    return { applied: true };
  });
  // And creates the progress tokens a server asks for, and takes the capabilities it registers and unregisters (recorded too).
  for (const method of ['window/workDoneProgress/create', 'client/registerCapability', 'client/unregisterCapability']) {
    connection.onRequest(method, (params: unknown) => {
      notifications.push({ method, params });
      wake();
      return null;
    });
  }
  connection.listen();
  const waitFor = <T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = probe();
        if (found === undefined) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return {
    connection,
    diagnostics,
    notifications,
    diagnosticsFor: (uri, accept = () => true, timeoutMs = 90_000) =>
      waitFor(() => notifications.map((n) => n.params as PublishDiagnosticsParams).find((p, i) => notifications[i]!.method === 'textDocument/publishDiagnostics' && p.uri === uri && accept(p)), timeoutMs, `diagnostics of ${uri}`),
    notification: (method, accept = () => true, timeoutMs = 30_000) => waitFor(() => notifications.find((n) => n.method === method && accept(n.params))?.params, timeoutMs, method),
    async initialize(rootUri, more = {}) {
      const result = (await connection.sendRequest('initialize', {
        processId: process.pid,
        rootUri,
        workspaceFolders: [{ uri: rootUri, name: 'root' }],
        capabilities: {
          textDocument: { publishDiagnostics: { versionSupport: true }, hover: { contentFormat: ['markdown', 'plaintext'] }, ...more.textDocument },
          workspace: { applyEdit: true, ...more.workspace },
          ...(more.window ? { window: more.window } : {}),
        },
      })) as { capabilities: Record<string, unknown> };
      await connection.sendNotification('initialized', {});
      return result;
    },
    async open(uri, text, version = 1, languageId = 'typescript') {
      await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version, text } });
    },
    async close() {
      await connection.sendRequest('shutdown').catch(() => undefined);
      await connection.sendNotification('exit').catch(() => undefined);
      connection.dispose();
      await onClose();
    },
  };
}

/** A client and an editor session of the app's facade on a pair of in-memory streams (the transport is the only thing not real). */
export function inProcessClient(connect: (reader: NodeJS.ReadableStream, writer: NodeJS.WritableStream) => void): LspClient {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  connect(toServer, toClient);
  return lspClient(toClient, toServer, () => {
    toServer.end();
  });
}

/** A process speaking LSP on stdio (the facade, or a language server started directly), with a client on it. */
export function processClient(command: string, args: string[], env: Record<string, string> = {}): { client: LspClient; child: ChildProcess; stderr: () => string } {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = lspClient(child.stdout!, child.stdin!, async () => {
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
  });
  return { client, child, stderr: () => stderr };
}

/** typescript-language-server as the pool would start it, but straight from the host: the reference answers. */
export function directTypescriptServer(): { client: LspClient; child: ChildProcess } {
  const require = createRequire(import.meta.url);
  const cli = require.resolve('typescript-language-server/lib/cli.mjs');
  const { client, child } = processClient(process.execPath, [cli, '--stdio']);
  return { client, child };
}

export const fileUri = (path: string): string => pathToFileURL(path).href;
