import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { RunningServer } from './mcp-servers.js';
import { measurePair, summarize, type Summary } from './stats.js';
import { NEEDLE, type TreePlan } from './work-tree.js';

/** One head-to-head: the same work done by CodeBuddy and by a reference, timed in the same run. */
export interface Comparison {
  scenario: string;
  ours: { label: string; summary: Summary };
  reference: { label: string; summary: Summary };
  /** What each side returned per run (files, matches, bytes), checked against each other. */
  oursCount: number;
  referenceCount: number;
  expectedCount: number;
  countUnit: string;
  /** Set when the two sides disagree on the result set: the timings then compare unequal work. */
  warning?: string;
  notes: string[];
}

interface CallResult {
  structuredContent?: Record<string, unknown>;
  content?: Array<{ type: string; text?: string }>;
  isError?: boolean;
}

async function call(server: RunningServer, name: string, args: Record<string, unknown>): Promise<CallResult> {
  const result = (await server.client.callTool({ name, arguments: args })) as CallResult;
  if (result.isError) throw new Error(`${server.name} ${name} failed: ${result.content?.[0]?.text ?? '(no text)'}`);
  return result;
}

const textOf = (result: CallResult): string => result.content?.find((part) => part.type === 'text')?.text ?? '';

/** Calls a paged tool of ours until it stops answering with a cursor; returns every page's items. */
async function collectPages<T>(server: RunningServer, name: string, args: Record<string, unknown>, key: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const result = await call(server, name, cursor === undefined ? args : { ...args, cursor });
    const content = result.structuredContent ?? {};
    items.push(...((content[key] as T[] | undefined) ?? []));
    cursor = content.next_cursor as string | undefined;
  } while (cursor !== undefined);
  return items;
}

function mismatch(what: string, ours: number, reference: number, expected: number): string | undefined {
  if (ours === reference && ours === expected) return undefined;
  return `${what}: ours ${ours}, reference ${reference}, expected ${expected}; the timings compare different work.`;
}

const READ_WARMUP = 500;

/** 1. file_read of a 4 KiB file vs server-filesystem read_text_file, both over stdio. */
export async function benchFileRead(ours: RunningServer, reference: RunningServer, treeDir: string, plan: TreePlan, runs = 500): Promise<Comparison> {
  const targets = plan.readTargets;
  let oursBytes = 0;
  let referenceBytes = 0;
  const samples = await measurePair(
    async (i) => {
      const out = (await call(ours, 'file_read', { path: targets[i % targets.length]! })).structuredContent as { size: number; end_line?: number; total_lines?: number; next_cursor?: string };
      // The whole file in one answer, or the comparison would be against a partial read.
      if (out.next_cursor !== undefined || out.end_line !== out.total_lines) throw new Error('file_read answered a partial file');
      oursBytes = out.size;
    },
    async (i) => {
      referenceBytes = textOf(await call(reference, 'read_text_file', { path: join(treeDir, targets[i % targets.length]!) })).length;
    },
    // A long warm-up: both servers keep getting faster for a few hundred calls (JIT), and
    // a short one flatters whichever warms more slowly.
    { warmup: READ_WARMUP, runs },
  );
  return {
    scenario: 'file_read, 4 KiB file',
    ours: { label: 'CodeBuddy `file_read`', summary: summarize(samples.a) },
    reference: { label: 'server-filesystem `read_text_file`', summary: summarize(samples.b) },
    oursCount: oursBytes,
    referenceCount: referenceBytes,
    expectedCount: 4_096,
    countUnit: 'bytes per file',
    warning: mismatch('bytes read', oursBytes, referenceBytes, 4_096),
    notes: [
      `${runs} calls each, cycling through ${targets.length} different 4,096-byte .ts files; ${READ_WARMUP} warm-up calls each first.`,
      'Ours answers numbered lines as text plus structuredContent (content, sha256, line counts) and records an action row and an audit event in SQLite per call; the reference answers the raw text.',
    ],
  };
}

/** 2. file_glob (all pages) vs server-filesystem search_files for the same name glob. */
export async function benchFileGlob(ours: RunningServer, reference: RunningServer, treeDir: string, plan: TreePlan, runs = 30): Promise<Comparison> {
  // Ours: a pattern without '/' matches base names at any depth. The reference matches
  // minimatch against the path relative to `path`, so the same set needs `**/`.
  const oursPattern = '*.md';
  const referencePattern = '**/*.md';
  let oursPaths: string[] = [];
  let referencePaths: string[] = [];
  const samples = await measurePair(
    async () => {
      oursPaths = await collectPages<string>(ours, 'file_glob', { pattern: oursPattern }, 'paths');
    },
    async () => {
      const text = textOf(await call(reference, 'search_files', { path: treeDir, pattern: referencePattern }));
      referencePaths = text === 'No matches found' ? [] : text.split('\n').filter(Boolean);
    },
    { warmup: 3, runs },
  );
  // Same count is the requirement; same members is checked too, since counts can agree by accident.
  const relativeReference = new Set(referencePaths.map((path) => path.slice(treeDir.length + 1)));
  const sameMembers = oursPaths.length === relativeReference.size && oursPaths.every((path) => relativeReference.has(path));
  const pages = Math.ceil(oursPaths.length / 200) || 1;
  let warning = mismatch('files found', oursPaths.length, referencePaths.length, plan.mdFiles);
  if (!warning && !sameMembers) warning = 'files found: same count but different paths; the timings compare different work.';
  return {
    scenario: 'name glob over 5,000 files',
    ours: { label: `CodeBuddy \`file_glob\` \`${oursPattern}\` (all ${pages} pages)`, summary: summarize(samples.a) },
    reference: { label: `server-filesystem \`search_files\` \`${referencePattern}\``, summary: summarize(samples.b) },
    oursCount: oursPaths.length,
    referenceCount: referencePaths.length,
    expectedCount: plan.mdFiles,
    countUnit: 'files',
    warning,
    notes: [
      `${runs} runs each after 3 warm-up runs. One run of ours = every page: ${pages} calls of 200 paths, following next_cursor.`,
      `Both result sets hold the same ${oursPaths.length} paths${sameMembers ? '' : ' (NOT: see warning)'}.`,
    ],
  };
}

/** Runs rg once as a child process and counts the match events in its JSON output. */
function runRipgrep(treeDir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('rg', ['--json', '--fixed-strings', '--', NEEDLE, treeDir], { stdio: ['ignore', 'pipe', 'ignore'] });
    let matches = 0;
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('{"type":"match"')) matches++;
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 || code === 1 ? resolve(matches) : reject(new Error(`rg exited with ${code}`))));
  });
}

/** 3. file_search for a rare token over stdio vs running rg directly on the same tree. */
export async function benchFileSearch(ours: RunningServer, treeDir: string, plan: TreePlan, runs = 30): Promise<Comparison> {
  let oursMatches = 0;
  let rgMatches = 0;
  const samples = await measurePair(
    async () => {
      oursMatches = (await collectPages<unknown>(ours, 'file_search', { pattern: NEEDLE }, 'matches')).length;
    },
    async () => {
      rgMatches = await runRipgrep(treeDir);
    },
    { warmup: 3, runs },
  );
  return {
    scenario: `content search for \`${NEEDLE}\``,
    ours: { label: 'CodeBuddy `file_search` over stdio', summary: summarize(samples.a) },
    reference: { label: '`rg --json --fixed-strings` spawned directly', summary: summarize(samples.b) },
    oursCount: oursMatches,
    referenceCount: rgMatches,
    expectedCount: plan.needleFiles,
    countUnit: 'matches',
    warning: mismatch('matches', oursMatches, rgMatches, plan.needleFiles),
    notes: [
      `${runs} runs each after 3 warm-up runs. ${plan.needleFiles} matches, one per file, fewer than the 100-match page: one call per run (cursors would be followed if there were more).`,
      'Ours spawns the same rg binary inside the server (with --hidden --no-require-git --max-filesize), parses its JSON and answers over MCP; the baseline is rg alone, spawned from the bench process, output read and counted.',
    ],
  };
}
