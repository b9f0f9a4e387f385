import { randomUUID } from 'node:crypto';
import { readFileSync, realpathSync, rmSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { startCodeBuddy, type RunningServer } from './mcp-servers.js';
import { measure, measurePair, summarize, type Summary } from './stats.js';
import type { TreePlan } from './work-tree.js';
import { fromDist } from './from-dist.js';

/**
 * Where one file_read call spends its time. The same 4 KiB reads are timed step by step
 * in process (loading the built dist/ code, the same code the stdio server runs), then
 * over stdio next to two floors: an MCP `ping` (transport only) and a `tools/call` of an
 * unknown tool (transport + the SDK's tools/call dispatch, no file work, no recording).
 */
export interface BreakdownRow {
  layer: string;
  summary: Summary;
}

export interface ReadBreakdown {
  inProcess: BreakdownRow[];
  overStdio: BreakdownRow[];
  /** JSON size of one tools/call result as the client receives it. */
  payloadBytes: { ours: number; reference: number };
  /** file_read over stdio, two fresh servers equally warmed: default log level vs warn. */
  logLevel: { defaultLevel: Summary; warn: Summary };
}

type AppModule = typeof import('../src/app.js');
type ConfigModule = typeof import('../src/config/load-config.js');
type FileServiceModule = typeof import('../src/files/file-service.js');
type ResolverModule = typeof import('../src/files/path-resolver.js');
type TextModule = typeof import('../src/files/text-content.js');
type RegistryModule = typeof import('../src/operations/registry.js');

const WARMUP = 50;

async function inProcessSteps(treeDir: string, dataDir: string, targets: string[], runs: number): Promise<BreakdownRow[]> {
  const { createApp } = await fromDist<AppModule>('app.js');
  const { loadConfig } = await fromDist<ConfigModule>('config/load-config.js');
  const { FileService } = await fromDist<FileServiceModule>('files/file-service.js');
  const { resolveInWorkspace } = await fromDist<ResolverModule>('files/path-resolver.js');
  const { decodeText, sha256, splitLines } = await fromDist<TextModule>('files/text-content.js');
  const { parseArguments } = await fromDist<RegistryModule>('operations/registry.js');

  rmSync(dataDir, { recursive: true, force: true }); // a fresh action log, like the stdio servers
  const config = loadConfig({ env: {}, overrides: { dataDir, logLevel: 'warn' } });
  const app = createApp(config);
  try {
    const principal = { tenantId: 'local', userId: 'bench', role: 'agent' as const };
    const workspace = await app.workspaces.adoptLocal(principal, treeDir);
    const files = new FileService(config);
    const ledger = app.ledger;
    const descriptor = app.registry.list().find((entry) => entry.operation.name === 'file_read')!;
    const context = { principal, correlationId: randomUUID(), signal: new AbortController().signal, logger: app.logger, defaultWorkspaceId: workspace.id };
    const target = (i: number) => targets[i % targets.length]!;
    const buffers = await Promise.all(targets.map((path) => readFile(join(treeDir, path))));
    const outputs = await Promise.all(targets.map((path) => files.read(workspace, { path })));
    const options = { warmup: WARMUP, runs };

    const absolute = (i: number) => join(workspace.root, target(i));
    // Node primitives first, for scale: what one file-system step costs on this machine.
    // Then CodeBuddy's own steps, called as the server calls them (not re-implemented here).
    const steps: Array<[string, (i: number) => Promise<unknown>]> = [
      ['Node: fs.promises.readFile of a 4 KiB file (for scale)', (i) => readFile(absolute(i))],
      ['Node: fs.readFileSync of a 4 KiB file (for scale)', async (i) => readFileSync(absolute(i))],
      ['Node: fs.promises.realpath (for scale)', (i) => realpath(absolute(i))],
      ['Node: fs.realpathSync.native (for scale)', async (i) => realpathSync.native(absolute(i))],
      ['resolveInWorkspace: path confinement', (i) => resolveInWorkspace(workspace.root, target(i))],
      ['decodeText + sha256 + splitLines of 4 KiB (CPU only)', async (i) => {
        const buffer = buffers[i % buffers.length]!;
        splitLines(decodeText(buffer)!);
        sha256(buffer);
      }],
      ['FileService.read: confinement, read, decode, hash, page', (i) => files.read(workspace, { path: target(i) })],
      ['argument validation (zod, strict input schema)', async (i) => parseArguments(descriptor.input, { path: target(i) })],
      ['render: numbered text of 4 KiB', async (i) => descriptor.operation.render(outputs[i % outputs.length]! as never)],
      ['Ledger.run around a no-op (SQLite transaction: action row + hash-chained audit event)', (i) =>
        ledger.run({ operation: 'file_read', effect: 'read', principal, correlationId: context.correlationId, arguments: { path: target(i) } }, { authorize: async () => null, perform: async () => ({ result: null, summary: 'noop' }) })],
      ['registry.invoke file_read: the whole operation, no transport', (i) => app.registry.invoke('file_read', { path: target(i) }, context)],
    ];
    const rows: BreakdownRow[] = [];
    for (const [layer, run] of steps) rows.push({ layer, summary: summarize(await measure(run, options)) });
    return rows;
  } finally {
    app.close();
  }
}

const readOurs = (server: RunningServer, targets: string[]) => (i: number) => server.client.callTool({ name: 'file_read', arguments: { path: targets[i % targets.length]! } });

export async function benchReadBreakdown(options: {
  ours: RunningServer;
  reference: RunningServer;
  treeDir: string;
  workDir: string;
  plan: TreePlan;
  runs?: number;
}): Promise<ReadBreakdown> {
  const { ours, reference, treeDir, workDir } = options;
  const runs = options.runs ?? 500;
  const targets = options.plan.readTargets;
  const pairOptions = { warmup: WARMUP, runs };
  const inProcess = await inProcessSteps(treeDir, join(workDir, 'data-inprocess'), targets, runs);

  const readReference = (i: number) => reference.client.callTool({ name: 'read_text_file', arguments: { path: join(treeDir, targets[i % targets.length]!) } });
  const reads = await measurePair(readOurs(ours, targets), readReference, pairOptions);
  // Same file work and the same recording, but a one-line answer: isolates what the 9 KB result costs in transit.
  const oneLine = await measure((i) => ours.client.callTool({ name: 'file_read', arguments: { path: targets[i % targets.length]!, limit_lines: 1 } }), pairOptions);
  const unknown = (server: RunningServer) => () => server.client.callTool({ name: 'no_such_tool', arguments: {} }).catch(() => undefined);
  const unknownTool = await measurePair(unknown(ours), unknown(reference), pairOptions);
  const pings = await measurePair(() => ours.client.ping(), () => reference.client.ping(), pairOptions);
  const overStdio: BreakdownRow[] = [
    { layer: 'CodeBuddy: file_read (full round trip)', summary: summarize(reads.a) },
    { layer: 'CodeBuddy: file_read with limit_lines 1 (same work, one-line answer)', summary: summarize(oneLine) },
    { layer: 'CodeBuddy: tools/call of an unknown tool (dispatch floor)', summary: summarize(unknownTool.a) },
    { layer: 'CodeBuddy: ping (transport floor)', summary: summarize(pings.a) },
    { layer: 'server-filesystem: read_text_file (full round trip)', summary: summarize(reads.b) },
    { layer: 'server-filesystem: tools/call of an unknown tool (dispatch floor)', summary: summarize(unknownTool.b) },
    { layer: 'server-filesystem: ping (transport floor)', summary: summarize(pings.b) },
  ];
  const payloadBytes = {
    ours: Buffer.byteLength(JSON.stringify(await readOurs(ours, targets)(0))),
    reference: Buffer.byteLength(JSON.stringify(await readReference(0))),
  };

  // Two fresh servers, warmed alike, so neither has a JIT head start: only the level differs.
  const atDefault = await startCodeBuddy({ treeDir, dataDir: join(workDir, 'data-log-default'), name: 'codebuddy (default log level)' });
  const atWarn = await startCodeBuddy({ treeDir, dataDir: join(workDir, 'data-log-warn'), logLevel: 'warn', name: 'codebuddy (warn)' });
  try {
    const levels = await measurePair(readOurs(atDefault, targets), readOurs(atWarn, targets), { warmup: 200, runs });
    return { inProcess, overStdio, payloadBytes, logLevel: { defaultLevel: summarize(levels.a), warn: summarize(levels.b) } };
  } finally {
    await Promise.all([atDefault.close(), atWarn.close()]);
  }
}
