/**
 * Issue 8's figures: `code_references` through CodeBuddy (MCP over stdio, the language server
 * in the workspace's sandbox) against the same request sent straight to the same
 * typescript-language-server, and against the MCP-to-LSP bridges people install today
 * (cclsp, @mizchi/lsmcp) on the same question; cold start to ready; memory of an idle
 * server; and whether each answers fresh right after a file changes.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startDirectLanguageServer, TSLS_CLI } from './direct-language-server.js';
import { startCclsp, startCodeBuddy, startLsmcp, type RunningServer } from './mcp-servers.js';
import { measure, measurePair, summarize, timeOnce, type Summary } from './stats.js';
import { typescriptProject } from './typescript-project.js';

const RUNS = 30;
const WARMUP = 5;
/** Ours against the direct request: the overhead is a difference of two p50s, which needs more samples than a ranking of peers. */
const PAIR_RUNS = 120;
const WORKSPACE = 'bench-code';

/** A contender's run, or why it could not be measured (a peer that does not install or start here). */
export type PeerFigures =
  | { ok: true; /** The first call (it starts the language server) and what it answered. */ coldMs: number; coldCount: number; references: Summary; count: number; freshCount: number }
  | { ok: false; error: string };

export interface CodeFigures {
  files: number;
  expectedReferences: number;
  ours: { references: Summary; count: number; freshCount: number; coldStartMs: number; idleRssBytes: number | undefined };
  direct: { references: Summary; count: number; freshCount: number; readyMs: number; idleRssBytes: number };
  cclsp: PeerFigures;
  lsmcp: PeerFigures;
}

type CallResult = { structuredContent?: Record<string, unknown>; isError?: boolean; content?: Array<{ text?: string }> };

async function call(server: RunningServer, name: string, args: Record<string, unknown>): Promise<CallResult> {
  const result = (await server.client.callTool({ name, arguments: args })) as CallResult;
  if (result.isError) throw new Error(`${server.name} ${name}: ${result.content?.[0]?.text ?? 'failed'}`);
  return result;
}

const textOf = (result: CallResult) => (result.content ?? []).map((block) => block.text ?? '').join('\n');

/** How many references an answer holds: ours says so in its structured output; the peers in their text. */
function oursCount(result: CallResult): number {
  const total = result.structuredContent?.total;
  if (typeof total !== 'number') throw new Error(`code_references gave no total: ${JSON.stringify(result.structuredContent).slice(0, 300)}`);
  return total;
}

/** Both peers list one `path:line:col` per reference in their text. */
function peerCount(result: CallResult): number {
  return textOf(result).match(/^\S+\.tsx?:\d+:\d+/gm)?.length ?? 0;
}

export async function benchCode(options: { workDir: string; node24: string | undefined }): Promise<CodeFigures> {
  const project = typescriptProject();
  const { target } = project;
  // The stdio server adopts a directory as its default workspace: an empty one beside its data (the project goes into a workspace it makes).
  const adopted = join(options.workDir, 'code-default');
  mkdirSync(adopted, { recursive: true });
  const ours = await startCodeBuddy({ treeDir: adopted, dataDir: join(options.workDir, 'data-code'), logLevel: 'warn', name: 'codebuddy-code' });
  const created = await call(ours, 'workspace_create', { name: WORKSPACE });
  const root = created.structuredContent!.root as string;
  for (const [path, content] of project.files) await call(ours, 'file_write', { workspace: WORKSPACE, path, content });

  const question = { workspace: WORKSPACE, path: target.path, line: target.line, column: target.column };
  const coldStartMs = await timeOnce(() => call(ours, 'code_references', question));
  const direct = await startDirectLanguageServer(root, target.path);
  try {
    const counts = { ours: oursCount(await call(ours, 'code_references', question)), direct: await direct.references(target.path, target.line, target.column) };
    const pair = await measurePair(
      () => call(ours, 'code_references', question),
      () => direct.references(target.path, target.line, target.column),
      { warmup: WARMUP, runs: PAIR_RUNS },
    );
    const idleRssBytes = await oursIdleRss(ours);
    const directRss = direct.rssBytes();

    const cclsp = await peer('cclsp', () => startCclsp({ projectDir: root, configDir: join(options.workDir, 'cclsp'), tslsCli: TSLS_CLI }), (server) =>
      call(server, 'find_references', { file_path: target.path, symbol_name: target.symbol }),
    );
    const lsmcp = options.node24
      ? await peer('lsmcp', () => startLsmcp({ projectDir: root, node24: options.node24! }), (server) =>
          call(server, 'lsp_find_references', { root, relativePath: target.path, line: target.line, symbolName: target.symbol }),
        )
      : undefined;

    // Freshness: a new module calling formatMoney once (two references: the import and the
    // call) appears, and each contender is asked at once, ours first (the others get longer).
    await call(ours, 'file_write', { workspace: WORKSPACE, path: 'src/fresh.ts', content: "import { formatMoney } from './money';\nexport const fresh = formatMoney({ cents: 1, currency: 'EUR' });\n" });
    const oursFresh = oursCount(await call(ours, 'code_references', question));
    const directFresh = await direct.references(target.path, target.line, target.column);
    const cclspFresh = cclsp.server ? peerCount(await cclsp.ask()) : 0;
    const lsmcpFresh = lsmcp?.server ? peerCount(await lsmcp.ask()) : 0;
    await Promise.all([cclsp.server?.close(), lsmcp?.server?.close()]);

    return {
      files: project.files.size,
      expectedReferences: project.expectedReferences,
      ours: { references: summarize(pair.a), count: counts.ours, freshCount: oursFresh, coldStartMs, idleRssBytes },
      direct: { references: summarize(pair.b), count: counts.direct, freshCount: directFresh, readyMs: direct.readyMs, idleRssBytes: directRss },
      cclsp: cclsp.figures(cclspFresh),
      lsmcp: lsmcp ? lsmcp.figures(lsmcpFresh) : { ok: false, error: 'no Node >= 22 binary to run it with (test/interop/tools installs one)' },
    };
  } finally {
    await direct.close();
    await ours.close();
  }
}

/** Starts a peer and measures it; a peer that fails to start or answer is reported, not fatal. */
async function peer(name: string, start: () => Promise<RunningServer>, ask: (server: RunningServer) => Promise<CallResult>) {
  let server: RunningServer | undefined;
  try {
    server = await start();
    const running = server;
    const coldStarted = performance.now();
    const coldCount = peerCount(await ask(running));
    const coldMs = performance.now() - coldStarted;
    const samples = await measure(() => ask(running), { warmup: WARMUP, runs: RUNS });
    const count = peerCount(await ask(running));
    return { server, ask: () => ask(running), figures: (freshCount: number): PeerFigures => ({ ok: true, coldMs, coldCount, references: summarize(samples), count, freshCount }) };
  } catch (error) {
    await server?.close().catch(() => undefined);
    const message = `${name}: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300);
    return { server: undefined, ask: () => Promise.reject(new Error(message)), figures: (): PeerFigures => ({ ok: false, error: message }) };
  }
}

/** The language server's memory as `code_status` reports it, once nothing is asked of it. */
async function oursIdleRss(ours: RunningServer): Promise<number | undefined> {
  const status = await call(ours, 'code_status', { workspace: WORKSPACE });
  const servers = (status.structuredContent?.servers ?? []) as Array<{ memory_bytes?: number }>;
  const total = servers.reduce((sum, server) => sum + (server.memory_bytes ?? 0), 0);
  return total > 0 ? total : undefined;
}

/** The Node >= 22 binary the interop tooling installs, when it is there. */
export function node24Binary(repoRoot: string): string | undefined {
  const candidate = process.env.CODEBUDDY_BENCH_NODE24 ?? join(repoRoot, 'test/interop/tools/node_modules/.bin/node');
  return existsSync(candidate) ? candidate : undefined;
}

const mb = (bytes: number | undefined) => (bytes === undefined ? 'not reported' : `${(bytes / 1024 / 1024).toFixed(0)} MiB`);

/** The overhead target: within 5% of the direct request, or 2 ms, at p50. */
export function codeOverhead(figures: CodeFigures): { ms: number; ratio: number; met: boolean } {
  const added = figures.ours.references.p50 - figures.direct.references.p50;
  const ratio = figures.ours.references.p50 / figures.direct.references.p50;
  return { ms: added, ratio, met: ratio <= 1.05 || added <= 2 };
}

function peerRow(name: string, peer: PeerFigures, expected: number): string[] {
  if (!peer.ok) return [name, '—', '—', '—', '—', `not measured: ${peer.error}`];
  return [name, msText(peer.references.p50), msText(peer.references.p95), `${msText(peer.coldMs)} (${peer.coldCount} refs)`, `${peer.count}`, peer.freshCount === expected + 2 ? 'yes' : `no (${peer.freshCount})`];
}

const msText = (value: number) => value.toFixed(1);

/** Figures 8a–8d in the summary table. */
export function codeSummaryRows(f: CodeFigures): string[][] {
  const overhead = codeOverhead(f);
  const peers = [f.cclsp, f.lsmcp].filter((peer): peer is Extract<PeerFigures, { ok: true }> => peer.ok);
  const fasterThanPeers = peers.length === 2 && peers.every((peer) => f.ours.references.p50 < peer.references.p50);
  const peerText = [f.cclsp, f.lsmcp].map((peer, i) => `${i === 0 ? 'cclsp' : 'lsmcp'} ${peer.ok ? `${msText(peer.references.p50)} ms, ${peer.count} refs` : 'not run'}`).join('; ');
  return [
    ['8a. code_references over MCP vs the same request to typescript-language-server, p50', `${msText(f.ours.references.p50)} vs ${msText(f.direct.references.p50)} ms (${overhead.ms >= 0 ? '+' : ''}${msText(overhead.ms)} ms, ${overhead.ratio >= 1 ? '+' : ''}${((overhead.ratio - 1) * 100).toFixed(1)}%)`, '≤ 5% or ≤ 2 ms', overhead.met ? 'yes' : '**no**'],
    ['8b. code_references vs the bridges people install, p50 (their answer)', `${msText(f.ours.references.p50)} ms, ${f.ours.count} refs; ${peerText}`, 'faster than both, correct and fresh', fasterThanPeers && f.ours.count === f.expectedReferences && f.ours.freshCount === f.expectedReferences + 2 ? 'yes' : '**no**'],
    ['8c. cold start to first answer: code_references on a fresh server (direct: to first diagnostics)', `${msText(f.ours.coldStartMs)} ms (${msText(f.direct.readyMs)} ms)`, '(recorded)', '—'],
    ['8d. memory of an idle typescript-language-server with the project loaded', `${mb(f.ours.idleRssBytes)} (direct: ${mb(f.direct.idleRssBytes)})`, '(recorded)', '—'],
  ];
}

/** The section of bench/RESULTS.md for these figures. */
export function renderCodeSection(f: CodeFigures, table: (header: string[], rows: string[][], align?: Array<'l' | 'r'>) => string): string {
  const overhead = codeOverhead(f);
  const expected = f.expectedReferences;
  const freshOk = (count: number) => (count === expected + 2 ? 'yes' : `no (${count})`);
  return [
    '## 8. Code intelligence',
    '',
    `A generated TypeScript project of ${f.files} files (bench/typescript-project.ts): \`formatMoney\` is declared once and imported and called in every feature module, ${expected} references in all. Every contender is asked for its references at the declaration, ${RUNS} timed calls after ${WARMUP} warm-up (CodeBuddy and the direct request: ${PAIR_RUNS}, alternating).`,
    '',
    table(
      ['Contender', 'p50 ms', 'p95 ms', 'first call ms (its answer)', 'references found', 'fresh after a new file'],
      [
        ['CodeBuddy `code_references` (MCP stdio, server in the sandbox)', msText(f.ours.references.p50), msText(f.ours.references.p95), `${msText(f.ours.coldStartMs)}`, `${f.ours.count}`, freshOk(f.ours.freshCount)],
        ['typescript-language-server, direct (vscode-jsonrpc)', msText(f.direct.references.p50), msText(f.direct.references.p95), `${msText(f.direct.readyMs)} (to first diagnostics)`, `${f.direct.count}`, freshOk(f.direct.freshCount)],
        peerRow('cclsp 0.7 (MCP stdio)', f.cclsp, expected),
        peerRow('@mizchi/lsmcp 0.10 (MCP stdio, Node 24)', f.lsmcp, expected),
      ],
      ['l', 'r', 'r', 'r', 'r', 'l'],
    ),
    '',
    `**Overhead over the direct request at p50: ${overhead.ms >= 0 ? '+' : ''}${msText(overhead.ms)} ms (${((overhead.ratio - 1) * 100).toFixed(1)}%)** (target ≤ 5% or ≤ 2 ms: ${overhead.met ? 'yes' : '**no**'}).`,
    `Memory of an idle language server (typescript-language-server and its tsserver, project loaded): CodeBuddy's as \`code_status\` reports it ${mb(f.ours.idleRssBytes)}; the direct one ${mb(f.direct.idleRssBytes)}.`,
    '',
    '- CodeBuddy answers the first page of references (the count is the total it reports, all pages); the direct request and the peers return every reference in one answer.',
    '- "first call": for CodeBuddy and the peers, the first `references` call on a fresh server (it starts the language server and waits for it, or does not); for the direct client, spawn to the first `publishDiagnostics` of the opened file.',
    `- "fresh": a new module \`src/fresh.ts\` adding two references is written through CodeBuddy's \`file_write\`; each contender is then asked at once, CodeBuddy first. The right answer is ${expected + 2}. The direct client is told nothing (no didChange or watched-files notification), as a client that does not watch files.`,
  ].join('\n');
}
