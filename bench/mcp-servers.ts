import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

/** Both servers are driven by the same v1 SDK client over stdio, so client-side cost is equal. */
export interface RunningServer {
  name: string;
  client: Client;
  /** The child's process id (its memory is read from /proc). */
  pid: number;
  /** The last part of the child's stderr, shown when something goes wrong. */
  stderrTail(): string;
  close(): Promise<void>;
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Every server started here, so the run can close them all even when a benchmark throws. */
const started = new Set<RunningServer>();

async function connect(name: string, args: string[], env: Record<string, string>, spawnWith: { command?: string; cwd?: string } = {}): Promise<RunningServer> {
  const transport = new StdioClientTransport({ command: spawnWith.command ?? process.execPath, args, cwd: spawnWith.cwd ?? repoRoot, env, stderr: 'pipe' });
  // Drain stderr: an unread pipe fills up and would eventually block a chatty child.
  let tail = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4_000);
  });
  const client = new Client({ name: 'codebuddy-bench', version: '1' });
  try {
    await client.connect(transport);
  } catch (error) {
    await transport.close(); // a child that failed the handshake must not outlive the run
    throw new Error(`${name} did not start: ${error instanceof Error ? error.message : String(error)}\n${tail}`);
  }
  const server: RunningServer = {
    name,
    client,
    pid: transport.pid!,
    stderrTail: () => tail,
    async close() {
      started.delete(server);
      await client.close(); // ends the child's stdin, then SIGTERM/SIGKILL if it lingers
    },
  };
  started.add(server);
  return server;
}

/** The environment a child sees: ours, minus any inherited CODEBUDDY_* settings that would skew it. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('CODEBUDDY_')) env[key] = value;
  }
  return { ...env, ...extra };
}

/**
 * CodeBuddy over stdio with a fresh data directory unless `keepData` (so its SQLite action
 * log starts empty; recording stays on, as in production). `logLevel` undefined leaves the
 * server's default level in place.
 */
export async function startCodeBuddy(options: { treeDir: string; dataDir: string; logLevel?: string; name?: string; settings?: Record<string, string>; keepData?: boolean }): Promise<RunningServer> {
  // keepData: serve what an in-process run put there (the notes benchmark fills its database first).
  if (!options.keepData) rmSync(options.dataDir, { recursive: true, force: true });
  mkdirSync(options.dataDir, { recursive: true });
  const args = [join(repoRoot, 'dist/cli/main.js'), 'serve', '--stdio', '--workspace', options.treeDir, '--data-dir', options.dataDir];
  // No per-workspace loop-mounted disks: they outlive the server, and each run starts by removing its data directory.
  const env = childEnv({ CODEBUDDY_WORKSPACE_DISK_BYTES: '0', ...(options.logLevel === undefined ? {} : { CODEBUDDY_LOG_LEVEL: options.logLevel }), ...options.settings });
  return connect(options.name ?? 'codebuddy', args, env);
}

/** The reference peer: @modelcontextprotocol/server-filesystem with the tree as its only allowed directory. */
export async function startReference(options: { treeDir: string }): Promise<RunningServer> {
  const entry = join(repoRoot, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
  return connect('server-filesystem', [entry, options.treeDir], childEnv({}));
}

/**
 * cclsp, an MCP-to-LSP bridge people install today, on the same typescript-language-server
 * (started on the host, as cclsp does), rooted at the project.
 */
export async function startCclsp(options: { projectDir: string; configDir: string; tslsCli: string }): Promise<RunningServer> {
  mkdirSync(options.configDir, { recursive: true });
  const config = join(options.configDir, 'cclsp.json');
  writeFileSync(config, JSON.stringify({ servers: [{ extensions: ['ts', 'tsx', 'js', 'jsx'], command: [process.execPath, options.tslsCli, '--stdio'], rootDir: options.projectDir }] }));
  return connect('cclsp', [join(repoRoot, 'node_modules/cclsp/dist/index.js')], childEnv({ CCLSP_CONFIG_PATH: config }), { cwd: options.projectDir });
}

/**
 * @mizchi/lsmcp, the other bridge, with its typescript-language-server preset. It needs
 * Node >= 22 (`node:sqlite`): `node24` is such a binary.
 */
export async function startLsmcp(options: { projectDir: string; node24: string }): Promise<RunningServer> {
  // The preset finds typescript-language-server on PATH: ours, the same one everyone uses here.
  const path = `${join(repoRoot, 'node_modules/.bin')}:${process.env.PATH ?? ''}`;
  return connect('lsmcp', [join(repoRoot, 'node_modules/@mizchi/lsmcp/dist/lsmcp.js'), '-p', 'typescript'], childEnv({ PATH: path }), { command: options.node24, cwd: options.projectDir });
}

export async function closeAllServers(): Promise<void> {
  await Promise.allSettled([...started].map((server) => server.close()));
}
