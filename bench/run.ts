/**
 * `npm run bench`: builds (via the npm script), then runs every benchmark in order and
 * writes bench/RESULTS.md. Benchmarks measure and report; they do not pass or fail on
 * targets. Scratch state lives in bench/.work (git-ignored): the reusable work tree and
 * fresh data directories for the servers.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { benchFileGlob, benchFileRead, benchFileSearch } from './file-benchmarks.js';
import { benchGlobBreakdown } from './glob-breakdown.js';
import { benchCodeOutline } from './code-outline-benchmarks.js';
import { benchColdStart } from './cold-start-benchmarks.js';
import { benchLedger } from './ledger-benchmarks.js';
import { benchNotes } from './note-benchmarks.js';
import { benchCode, node24Binary } from './code-benchmarks.js';
import { benchLocalExec, benchLocalRuntime } from './runtime-benchmarks.js';
import { closeAllServers, startCodeBuddy, startReference, type RunningServer } from './mcp-servers.js';
import { benchReadBreakdown } from './read-breakdown.js';
import { benchRefactor } from './refactor-benchmarks.js';
import { renderResults, type Diagnostic } from './report.js';
import { benchSqliteDrivers } from './sqlite-drivers.js';
import { benchSync } from './sync-benchmarks.js';
import { benchLspFacade } from './lsp-facade-benchmarks.js';
import { benchToolTokens } from './tool-tokens.js';
import { ensureWorkTree, FILE_COUNT } from './work-tree.js';

const benchDir = import.meta.dirname;
const workDir = join(benchDir, '.work');
const treeDir = join(workDir, 'tree');
const resultsFile = join(benchDir, 'RESULTS.md');

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

function gitCommit(): string {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout?.trim();
  if (!head) return 'unknown';
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).stdout?.trim();
  return dirty ? `${head} (src/ has uncommitted changes)` : head;
}

function machineFacts(treeNote: string, loadAtStart: number[]): Array<[string, string]> {
  const cpuList = cpus();
  const models = [...new Set(cpuList.map((cpu) => cpu.model.trim()))].join(', ');
  const rg = spawnSync('rg', ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? 'not found';
  return [
    ['Node', process.version],
    ['OS', `${type()} ${release()} (${arch()})`],
    ['CPUs', `${cpuList.length} × ${models}`],
    ['Total memory', `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`],
    // Other work on the machine skews every figure; the load average says whether there was any.
    ['Load average (1/5/15 min) at start', loadAtStart.map((load) => load.toFixed(2)).join(' / ')],
    ['ripgrep', rg],
    // The code measured: src/ moves, so a figure is only meaningful with its commit.
    ['CodeBuddy commit', gitCommit()],
    ['Work tree', treeNote],
  ];
}

/**
 * The breakdowns drive internal modules of dist/ directly, so a refactor there can break
 * them; they explain the headline figures but must not cost the run its results.
 */
async function diagnostic<T>(run: () => Promise<T>): Promise<Diagnostic<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    log(`   diagnostic failed: ${error instanceof Error ? error.message : String(error)}`);
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadAtStart = loadavg();
  mkdirSync(workDir, { recursive: true });

  log('work tree…');
  const { plan, reused } = ensureWorkTree(treeDir);
  const treeNote = `${FILE_COUNT.toLocaleString('en-US')} files in bench/.work/tree (${reused ? 'reused' : 'generated this run'}): ${plan.mdFiles} .md, ${plan.needleFiles} files holding the needle, ${plan.readTargets.length} read targets of 4,096 bytes`;

  // Kept outside the try so a failure can show what the servers last wrote to stderr.
  const servers: RunningServer[] = [];
  try {
    const ours = await startCodeBuddy({ treeDir, dataDir: join(workDir, 'data'), logLevel: 'warn' });
    servers.push(ours);
    const reference = await startReference({ treeDir });
    servers.push(reference);

    log('5. tool-list tokens…');
    const tokens = await benchToolTokens(ours, reference);
    log('1. file_read…');
    const read = await benchFileRead(ours, reference, treeDir, plan);
    log('2. file_glob vs search_files…');
    const glob = await benchFileGlob(ours, reference, treeDir, plan);
    log('   where file_glob time goes…');
    const globBreakdown = await diagnostic(() => benchGlobBreakdown(treeDir));
    log('3. file_search vs rg…');
    const search = await benchFileSearch(ours, treeDir, plan);
    log('7. local runtime: exec and terminal round trip…');
    const runtime = await benchLocalRuntime(ours);
    log('8. code_outline of a 2,000-line file…');
    const outline = await benchCodeOutline(ours);
    log('   exec with the sandbox turned off…');
    const unsandboxed = await startCodeBuddy({ treeDir, dataDir: join(workDir, 'data-unsandboxed'), logLevel: 'warn', name: 'codebuddy-unsandboxed', settings: { CODEBUDDY_LOCAL_SANDBOX: 'off', CODEBUDDY_ALLOW_UNSANDBOXED: 'true' } });
    servers.push(unsandboxed);
    const unsandboxedExec = await benchLocalExec(unsandboxed);
    log('   where file_read time goes…');
    const breakdown = await diagnostic(() => benchReadBreakdown({ ours, reference, treeDir, workDir, plan }));
    await closeAllServers();

    log('13. stdio cold start: spawn to handshake…');
    const coldStart = await diagnostic(() => benchColdStart({ treeDir, workDir }));

    log('4. SQLite drivers…');
    const sqlite = await benchSqliteDrivers(workDir);

    log('6. ledger: audit appends and recording cost…');
    const ledger = await benchLedger(workDir, treeDir, plan.readTargets);

    log('11. real-time sync: 200 documents × 5 clients, against @y/websocket-server and Hocuspocus…');
    const sync = await diagnostic(() => benchSync(workDir));

    log('8. code intelligence: code_references vs typescript-language-server direct, cclsp and lsmcp…');
    const code = await diagnostic(() => benchCode({ workDir, node24: node24Binary(join(benchDir, '..')) }));
    log('9. refactoring: rename plan and apply vs typescript-language-server…');
    const refactor = await diagnostic(() => benchRefactor({ workDir }));
    log('10. notes: creates in process, note_search over MCP…');
    const notes = await diagnostic(() => benchNotes(workDir));
    log('12. LSP facade: references through the facade vs straight to the same server, and with 5 editors…');
    const lspFacade = await diagnostic(() => benchLspFacade(workDir));

    const durationSeconds = (performance.now() - started) / 1_000;
    writeFileSync(
      resultsFile,
      renderResults({ date: new Date(), durationSeconds, machine: machineFacts(treeNote, loadAtStart), read, glob, globBreakdown, search, breakdown, sqlite, tokens, ledger, runtime: { ...runtime, unsandboxedExec }, outline, code, refactor, notes, sync, lspFacade, coldStart }),
    );
    log(`wrote ${resultsFile} in ${durationSeconds.toFixed(1)} s`);
  } catch (error) {
    // Show what the servers said last: a failed call is usually explained there.
    for (const server of servers) if (server.stderrTail()) log(`${server.name} stderr (tail):\n${server.stderrTail()}`);
    throw error;
  } finally {
    await closeAllServers();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
