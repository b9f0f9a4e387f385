/**
 * The baseline of the code-intelligence benchmark: the same typescript-language-server
 * CodeBuddy runs, driven straight over stdio with vscode-jsonrpc — no MCP, no sandbox, no
 * recording. What CodeBuddy adds on top of this is its overhead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';

const require = createRequire(import.meta.url);
export const TSLS_CLI = require.resolve('typescript-language-server/lib/cli.mjs');

export interface DirectLanguageServer {
  /** Spawn to the first diagnostics of the opened file: the project is loaded. */
  readyMs: number;
  references(path: string, line: number, column: number): Promise<number>;
  /** `textDocument/rename`: the edits of the WorkspaceEdit it answers, and the files they touch. */
  rename(path: string, line: number, column: number, newName: string): Promise<{ edits: number; files: number }>;
  /** Resident memory of the server and its tsserver children, in bytes. */
  rssBytes(): number;
  close(): Promise<void>;
}

interface Location {
  uri: string;
}

interface WorkspaceEdit {
  changes?: Record<string, unknown[]>;
  documentChanges?: Array<{ edits?: unknown[] }>;
}

export async function startDirectLanguageServer(root: string, open: string): Promise<DirectLanguageServer> {
  const started = performance.now();
  const child = spawn(process.execPath, [TSLS_CLI, '--stdio'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr!.resume();
  const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  // What a minimal, well-behaved client answers to the server's own requests.
  connection.onRequest('workspace/configuration', (params: { items: unknown[] }) => params.items.map(() => null));
  connection.onRequest('window/workDoneProgress/create', () => null);
  connection.onRequest('client/registerCapability', () => null);
  const openUri = pathToFileURL(join(root, open)).href;
  const diagnosed = new Promise<void>((resolve) => {
    connection.onNotification('textDocument/publishDiagnostics', (params: { uri: string }) => {
      if (params.uri === openUri) resolve();
    });
  });
  connection.listen();
  const rootUri = pathToFileURL(root).href;
  await connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri,
    workspaceFolders: [{ uri: rootUri, name: 'bench' }],
    capabilities: { textDocument: { references: {}, rename: {}, publishDiagnostics: { versionSupport: true } }, workspace: { workspaceEdit: { documentChanges: true } }, window: { workDoneProgress: true } },
  });
  await connection.sendNotification('initialized', {});
  await connection.sendNotification('textDocument/didOpen', { textDocument: { uri: openUri, languageId: 'typescript', version: 1, text: readFileSync(join(root, open), 'utf8') } });
  await diagnosed;
  const readyMs = performance.now() - started;
  return {
    readyMs,
    async references(path, line, column) {
      const locations = (await connection.sendRequest('textDocument/references', {
        textDocument: { uri: pathToFileURL(join(root, path)).href },
        position: { line: line - 1, character: column - 1 },
        context: { includeDeclaration: true },
      })) as Location[] | null;
      return locations?.length ?? 0;
    },
    async rename(path, line, column, newName) {
      const edit = (await connection.sendRequest('textDocument/rename', {
        textDocument: { uri: pathToFileURL(join(root, path)).href },
        position: { line: line - 1, character: column - 1 },
        newName,
      })) as WorkspaceEdit | null;
      const perFile = edit?.documentChanges?.map((change) => change.edits?.length ?? 0) ?? Object.values(edit?.changes ?? {}).map((edits) => edits.length);
      return { edits: perFile.reduce((sum, count) => sum + count, 0), files: perFile.length };
    },
    rssBytes: () => treeRss(child),
    close: () => shutdown(connection, child),
  };
}

async function shutdown(connection: MessageConnection, child: ChildProcess): Promise<void> {
  await Promise.race([connection.sendRequest('shutdown').then(() => connection.sendNotification('exit')), new Promise((resolve) => setTimeout(resolve, 2_000))]).catch(() => undefined);
  connection.dispose();
  child.kill('SIGKILL');
}

/** RSS of a process and every descendant, from /proc. */
export function treeRss(child: ChildProcess): number {
  const pids = [child.pid!];
  for (let i = 0; i < pids.length; i++) {
    try {
      const children = readFileSync(`/proc/${pids[i]}/task/${pids[i]}/children`, 'utf8').trim();
      if (children) pids.push(...children.split(/\s+/).map(Number));
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  for (const pid of pids) {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (match) total += Number(match[1]) * 1024;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}
