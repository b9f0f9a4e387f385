/**
 * Figure 13: a stdio session's cold start. An MCP client (Claude Code, an IDE) spawns its
 * stdio servers afresh for every session, so the time from spawn to a finished handshake is
 * waited for every time. Measured against the reference server in alternation, each start a
 * new process, by the same v1 client; the memory is the child's RSS right after the handshake.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCodeBuddy, startReference, type RunningServer } from './mcp-servers.js';
import { measurePair, ms, percentile, ratio, summarize, type Summary } from './stats.js';

export interface ColdStartFigures {
  ours: Summary;
  reference: Summary;
  /** Median RSS after the handshake, MiB. */
  oursRssMiB: number;
  referenceRssMiB: number;
}

const RUNS = 12;

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN) / 1024;
}

const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50);

export async function benchColdStart(options: { treeDir: string; workDir: string }): Promise<ColdStartFigures> {
  const rss = { ours: [] as number[], reference: [] as number[] };
  const startAndClose = async (start: () => Promise<RunningServer>, into: number[]) => {
    const server = await start();
    into.push(rssMiB(server.pid));
    await server.close();
  };
  const dataDir = join(options.workDir, 'data-cold-start');
  // The warm-up run creates the data directory (migrations); every timed start reuses it, as a client's next session does.
  let fresh = true;
  const ours = () =>
    startAndClose(async () => {
      const server = await startCodeBuddy({ treeDir: options.treeDir, dataDir, logLevel: 'warn', name: 'codebuddy-cold', keepData: !fresh });
      fresh = false;
      return server;
    }, rss.ours);
  const reference = () => startAndClose(() => startReference({ treeDir: options.treeDir }), rss.reference);
  const samples = await measurePair(ours, reference, { warmup: 1, runs: RUNS });
  // The warm-up's memory readings are dropped with its times.
  return { ours: summarize(samples.a), reference: summarize(samples.b), oursRssMiB: median(rss.ours.slice(1)), referenceRssMiB: median(rss.reference.slice(1)) };
}

export function coldStartSummaryRow(c: ColdStartFigures): string[] {
  return ['13. stdio cold start, spawn to finished handshake, p50 (reference)', `${ms(c.ours.p50)} ms (${ms(c.reference.p50)} ms, ${ratio(c.ours.p50 / c.reference.p50)})`, '(recorded)', '—'];
}

export function coldStartSection(c: ColdStartFigures): string {
  return [
    '## 13. A stdio session\'s cold start',
    '',
    `Spawn to finished MCP handshake (\`initialize\` answered, \`initialized\` sent), each start a new process, ${c.ours.n} starts of each server in alternation, the same v1 client: **CodeBuddy p50 ${ms(c.ours.p50)} ms** (p95 ${ms(c.ours.p95)}), server-filesystem p50 ${ms(c.reference.p50)} ms (p95 ${ms(c.reference.p95)}): ${ratio(c.ours.p50 / c.reference.p50)}. RSS right after the handshake, median: CodeBuddy ${c.oursRssMiB.toFixed(1)} MiB, server-filesystem ${c.referenceRssMiB.toFixed(1)} MiB.`,
    '',
    '- CodeBuddy adopts the work tree as its workspace (`serve --stdio --workspace`), opens its SQLite database (created by an unrecorded first start) and recovers terminals, containers and proposals before it answers; the reference only reads its arguments.',
  ].join('\n');
}
