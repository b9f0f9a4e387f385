/**
 * Real-time sync: D documents × C clients, every client a stock provider with its own
 * socket, all connected at once. One round: a client edits one document and the time is
 * taken until the other C−1 clients of that document have the edit (the update round trip
 * as a human sees it). Contenders, each a server in its own process (so its RSS is its
 * own), driven from this process alike:
 *   - CodeBuddy `/sync` (persistence on: every update stored in SQLite before it is
 *     relayed; the file bridge writing each document back to its file), stock y-websocket clients;
 *   - `@y/websocket-server@0.1.1` (in memory, no persistence), stock y-websocket clients;
 *   - `@hocuspocus/server@3.4.4` (in memory), its own provider.
 * Rounds alternate between contenders' documents, one at a time, each round starting with
 * the next contender (a fixed order would always give the same one the moment right after
 * another server's round).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { percentile, summarize, type Summary } from './stats.js';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..');

export interface SyncContender {
  label: string;
  rtt: Summary & { p99: number };
  /** Server resident memory with every client connected, after the rounds. */
  rssMiB: number;
  /** The same server's resident memory once started, before any client: what sync adds is the difference. */
  idleRssMiB: number;
  connectSeconds: number;
}

export interface SyncFigures {
  docs: number;
  clients: number;
  rounds: number;
  contenders: SyncContender[];
}

interface ServerProcess {
  label: string;
  child: ChildProcess;
  /** Opens client `client` of document `index`. */
  open(index: number, doc: Y.Doc, client: number): { synced: Promise<void>; destroy(): void };
}

interface Session {
  texts: Y.Text[];
  destroy(): void;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Starts a child and resolves once its stdout says it listens. */
function spawnUntil(command: string, args: string[], env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(command, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = ready.exec(out);
      if (match) resolve({ child, match });
    });
    child.once('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited (${code}) before listening\n${err}`)));
  });
}

const stockClient = (url: string, room: string, doc: Y.Doc, params: Record<string, string>) => {
  const provider = new WebsocketProvider(url, room, doc, { params, WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket, disableBc: true });
  return {
    synced: new Promise<void>((resolve) => (provider.synced ? resolve() : provider.once('sync', () => resolve()))),
    // The provider's awareness (its 30 s timer) ends with the document, not with the provider.
    destroy: () => {
      provider.destroy();
      doc.destroy();
    },
  };
};

async function startCodeBuddy(workDir: string, docs: number, clients: number, nodeArgs: string[]): Promise<ServerProcess> {
  const dataDir = join(workDir, 'sync-data');
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const cli = join(repoRoot, 'dist/cli/main.js');
  // One person (one token) behind every client, as since the benchmark began: five people
  // taking turns keystroke by keystroke would make each turn write the previous person's
  // edits as their own action (attribution), a different load. The cap on one credential's
  // connections is raised to fit them, as the request rate is.
  const token = (await run(process.execPath, [cli, '--data-dir', dataDir, 'token', 'create', '--tenant', 'bench', '--user', 'human'])).stdout.trim();
  const env = { CODEBUDDY_LOG_LEVEL: 'warn', CODEBUDDY_WORKSPACE_DISK_BYTES: '0', CODEBUDDY_REQUESTS_PER_MINUTE: '1000000', CODEBUDDY_SYNC_MAX_CONNECTIONS_PER_CREDENTIAL: String(docs * clients) };
  const { child, match } = await spawnUntil(process.execPath, [...nodeArgs, cli, '--data-dir', dataDir, 'serve', '--port', '0'], env, /serving MCP at (\S+)/);
  const mcpUrl = new URL(match[1]!);
  const mcp = new Client({ name: 'sync-bench', version: '1' });
  await mcp.connect(new StreamableHTTPClientTransport(mcpUrl, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  const created = (await mcp.callTool({ name: 'workspace_create', arguments: { name: 'bench' } })) as { structuredContent?: { root?: string } };
  const root = created.structuredContent?.root;
  if (!root) throw new Error('workspace_create answered no root');
  await mcp.close();
  for (let i = 0; i < docs; i++) writeFileSync(join(root, `doc-${i}.txt`), `document ${i}\n`);
  return { label: 'CodeBuddy /sync (SQLite, file bridge)', child, open: (i, doc) => stockClient(`ws://${mcpUrl.host}/sync`, `bench/file/doc-${i}.txt`, doc, { token }) };
}

async function startYWebsocketServer(): Promise<ServerProcess> {
  const port = await freePort();
  const script = join(repoRoot, 'node_modules/@y/websocket-server/src/server.js');
  const { child } = await spawnUntil(process.execPath, [script], { HOST: '127.0.0.1', PORT: String(port) }, /running at/);
  return { label: '@y/websocket-server 0.1.1 (memory)', child, open: (i, doc) => stockClient(`ws://127.0.0.1:${port}`, `doc-${i}`, doc, {}) };
}

async function startHocuspocus(): Promise<ServerProcess> {
  const port = await freePort();
  const script = `import { Server } from '@hocuspocus/server'; const server = new Server({ port: ${port}, address: '127.0.0.1', quiet: true }); await server.listen(); console.log('hocuspocus ready');`;
  const { child } = await spawnUntil(process.execPath, ['--input-type=module', '-e', script], {}, /hocuspocus ready/);
  return {
    label: '@hocuspocus/server 3.4.4 (memory)',
    child,
    open(i, doc) {
      // One socket per client, as the stock clients have.
      const socket = new HocuspocusProviderWebsocket({ url: `ws://127.0.0.1:${port}`, WebSocketPolyfill: WebSocket });
      const provider = new HocuspocusProvider({ websocketProvider: socket, name: `doc-${i}`, document: doc });
      provider.attach();
      return {
        synced: new Promise<void>((resolve) => (provider.isSynced ? resolve() : provider.on('synced', () => resolve()))),
        destroy: () => {
          provider.destroy();
          socket.destroy();
          doc.destroy();
        },
      };
    },
  };
}

/** Every client of every document, connected in batches (a thousand handshakes at once would time some out). */
async function connectAll(server: ServerProcess, docs: number, clients: number): Promise<{ session: Session; seconds: number }> {
  const started = performance.now();
  const texts: Y.Text[] = [];
  const handles: Array<{ destroy(): void }> = [];
  const pending: Array<Promise<void>> = [];
  for (let d = 0; d < docs; d++) {
    for (let c = 0; c < clients; c++) {
      const doc = new Y.Doc();
      texts[d * clients + c] = doc.getText('content');
      const handle = server.open(d, doc, c);
      handles.push(handle);
      pending.push(handle.synced);
      if (pending.length >= 50) await Promise.all(pending.splice(0));
    }
  }
  await Promise.all(pending);
  return { session: { texts, destroy: () => handles.forEach((handle) => handle.destroy()) }, seconds: (performance.now() - started) / 1000 };
}

/** One edit by one client, timed until every other client of its document has it. */
function round(session: Session, clients: number, doc: number, writer: number, marker: string): Promise<number> {
  const others = Array.from({ length: clients }, (_, c) => c).filter((c) => c !== writer).map((c) => session.texts[doc * clients + c]!);
  return new Promise((resolve) => {
    let waiting = others.length;
    const started = performance.now();
    for (const text of others) {
      const seen = () => {
        if (!text.toString().startsWith(marker)) return;
        text.unobserve(seen);
        if (--waiting === 0) resolve(performance.now() - started);
      };
      text.observe(seen);
    }
    session.texts[doc * clients + writer]!.insert(0, marker);
  });
}

function rssMiB(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return kib / 1024;
}

export interface SyncBenchOptions {
  docs?: number;
  clients?: number;
  rounds?: number;
  warmup?: number;
  /** Node flags for the CodeBuddy server alone (a profile: `--cpu-prof`), never a tuning the others lack. */
  codeBuddyNodeArgs?: string[];
}

export async function benchSync(workDir: string, options: SyncBenchOptions = {}): Promise<SyncFigures> {
  const docs = options.docs ?? 200;
  const clients = options.clients ?? 5;
  const rounds = options.rounds ?? 2000;
  const warmup = options.warmup ?? 200;
  const servers: ServerProcess[] = [];
  const sessions: Session[] = [];
  // Every stock provider in Node adds a process 'exit' listener: thousands here, on purpose.
  const listenerLimit = process.getMaxListeners();
  process.setMaxListeners(0);
  try {
    servers.push(await startCodeBuddy(workDir, docs, clients, options.codeBuddyNodeArgs ?? []), await startYWebsocketServer(), await startHocuspocus());
    const connectSeconds: number[] = [];
    const idle = servers.map((server) => rssMiB(server.child));
    for (const server of servers) {
      const { session, seconds } = await connectAll(server, docs, clients);
      sessions.push(session);
      connectSeconds.push(seconds);
    }
    const samples: number[][] = servers.map(() => []);
    for (let r = 0; r < warmup + rounds; r++) {
      const doc = (r * 7919) % docs;
      const writer = r % clients;
      for (let k = 0; k < servers.length; k++) {
        const s = (r + k) % servers.length;
        const elapsed = await round(sessions[s]!, clients, doc, writer, `<${r}>`);
        if (r >= warmup) samples[s]!.push(elapsed);
      }
    }
    return {
      docs,
      clients,
      rounds,
      contenders: servers.map((server, s) => {
        const sorted = [...samples[s]!].sort((a, b) => a - b);
        return { label: server.label, rtt: { ...summarize(sorted), p99: percentile(sorted, 99) }, rssMiB: rssMiB(server.child), idleRssMiB: idle[s]!, connectSeconds: connectSeconds[s]! };
      }),
    };
  } finally {
    for (const session of sessions) session.destroy();
    for (const server of servers) server.child.kill('SIGTERM');
    process.setMaxListeners(listenerLimit);
  }
}
