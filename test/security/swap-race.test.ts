/**
 * The symlink swap race, live: code in a workspace exchanges a real directory `dN` with a
 * symlink `lN` (renameat2 RENAME_EXCHANGE, atomic, in a tight loop) while an agent reads,
 * writes, stats, lists, moves and deletes `dN/…` over real HTTP MCP. One link leads to a
 * directory outside every workspace, the other to another tenant's workspace; both hold
 * files of the very names the calls use, with markers in them.
 *
 * Whatever the interleaving, nothing outside may be read (no marker in any answer, no
 * outside-only name in a listing, no foreign size or hash), written, created, moved or
 * deleted (both outside trees hash the same before and after). The calls must also have
 * met both states of the race, succeeding sometimes and being refused sometimes, or the
 * test proves nothing and fails.
 *
 * It runs with the swapper on the host against a local workspace, and inside the
 * container of a Docker workspace (as the container's user, through the bind mount).
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectModernHttp, type McpClient, type ToolAnswer } from '../helpers/mcp-clients.js';
import { EXCHANGE_SCRIPT_NAME, placeExchangeScript, startSwapper } from '../helpers/rename-exchange.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/test-server.js';
import { treeSnapshot } from '../helpers/tree-snapshot.js';

const IMAGE = 'codebuddy-workspace:latest';
const engineReady = spawnSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' }).status === 0;
if (!engineReady && !process.env.CI) console.warn(`no Docker engine with ${IMAGE} here: the swap race inside a Docker workspace is not run (see .ci/run)`);

const tag = randomBytes(6).toString('hex');
const OUTSIDE_MARKER = `CB-OUTSIDE-${tag}`;
const OTHER_MARKER = `CB-OTHER-TENANT-${tag}`;
const OUTSIDE_ONLY = `outside-only-${tag}.txt`;
const OTHER_ONLY = `other-only-${tag}.txt`;
const INSIDE = `inside ${tag}\n`;
const INSIDE_SHA = createHash('sha256').update(INSIDE).digest('hex');
/** Names every call uses below `dN/`; the outside trees hold them too, so an escape would hit a real file. */
const NAMES = ['f.txt', 'mv-src.txt', 'mv-dst.txt', 'del.txt'];
const CALLS_PER_RUNTIME = 2_000;
const WORKERS = 6;

let server: TestServer;
let agent: McpClient;
let outsideDir: string;
let otherRoot: string;

function fill(dir: string, marker: string, only: string): void {
  for (const name of [...NAMES, only]) writeFileSync(join(dir, name), `${marker} ${name}\n`);
}

interface Tally {
  ok: number;
  refused: number;
  other: Record<string, number>;
}

/** One call; its answer must carry nothing from outside. */
async function call(tally: Tally, workspace: string, tool: string, args: Record<string, unknown>): Promise<ToolAnswer> {
  const answer = await agent.call(tool, { ...args, workspace });
  const blob = JSON.stringify([answer.text, answer.structured, answer.meta]);
  const context = `${tool} ${JSON.stringify(args)} answered ${blob.slice(0, 400)}`;
  for (const secret of [OUTSIDE_MARKER, OTHER_MARKER, OUTSIDE_ONLY, OTHER_ONLY, outsideDir, otherRoot]) expect(blob.includes(secret), `leak of ${secret}: ${context}`).toBe(false);
  expect(answer.code, context).not.toBe('E_INTERNAL');
  if (!answer.isError) {
    tally.ok++;
    const s = answer.structured!;
    if (tool === 'file_read') expect(s['content'], context).toBe(INSIDE.trimEnd());
    if (tool === 'file_stat') expect(s, context).toMatchObject({ type: 'file', size: INSIDE.length, sha256: INSIDE_SHA });
  } else if (answer.code === 'E_PATH_OUTSIDE_WORKSPACE') tally.refused++;
  else tally.other[answer.code!] = (tally.other[answer.code!] ?? 0) + 1;
  return answer;
}

/** A worker's mix of every file tool on `dir/…`, round after round, until `budget` calls are spent. */
async function hammer(tally: Tally, workspace: string, dir: string, worker: number, budget: { left: number }): Promise<void> {
  for (let round = 0; budget.left > 0; round++) {
    const steps: [string, Record<string, unknown>][] = [
      ['file_read', { path: `${dir}/f.txt` }],
      ['file_stat', { path: `${dir}/f.txt` }],
      ['file_list', { path: dir, depth: 1 }],
      ['file_write', { path: `${dir}/f.txt`, content: INSIDE }],
      ['file_write', { path: `${dir}/new-${worker}-${round}.txt`, content: INSIDE }],
      ['file_write', { path: `${dir}/del.txt`, content: INSIDE }],
      ['file_delete', { path: `${dir}/del.txt` }],
      ['file_write', { path: `${dir}/mv-src.txt`, content: INSIDE }],
      ['file_move', { from: `${dir}/mv-src.txt`, to: `${dir}/mv-dst.txt`, overwrite: true }],
      ['file_delete', { path: `${dir}/new-${worker}-${round}.txt` }],
    ];
    for (const [tool, args] of steps) {
      if (budget.left-- <= 0) return;
      await call(tally, workspace, tool, args);
    }
  }
}

/** Lays out `d1`/`l1` (→ outside) and `d2`/`l2` (→ the other tenant) in a workspace, swaps them while the calls run, and checks what happened. */
async function race(workspace: string, root: string, swapperCommand: string[], scriptPath: string, workdir: string): Promise<void> {
  for (const dir of ['d1', 'd2']) {
    for (const name of NAMES) expect((await agent.call('file_write', { path: `${dir}/${name}`, content: INSIDE, workspace })).isError).toBe(false);
  }
  symlinkSync(outsideDir, join(root, 'l1'));
  symlinkSync(otherRoot, join(root, 'l2'));
  placeExchangeScript(root);
  const before = { outside: treeSnapshot(outsideDir), other: treeSnapshot(otherRoot) };

  const swapper = await startSwapper(swapperCommand, scriptPath, workdir, ['d1:l1', 'd2:l2']);
  const tallies: Tally[] = [];
  let swaps: number[];
  try {
    const budget = { left: CALLS_PER_RUNTIME };
    await Promise.all(
      Array.from({ length: WORKERS }, (_, worker) => {
        const tally: Tally = { ok: 0, refused: 0, other: {} };
        tallies.push(tally);
        return hammer(tally, workspace, worker % 2 === 0 ? 'd1' : 'd2', worker, budget);
      }),
    );
  } finally {
    swaps = await swapper.stop();
  }

  const total = tallies.reduce((sum, t) => ({ ok: sum.ok + t.ok, refused: sum.refused + t.refused }), { ok: 0, refused: 0 });
  const others: Record<string, number> = {};
  for (const [code, n] of tallies.flatMap((t) => Object.entries(t.other))) others[code] = (others[code] ?? 0) + n;
  console.log(`${workspace}: ${CALLS_PER_RUNTIME} calls, ${total.ok} succeeded, ${total.refused} refused as outside, others ${JSON.stringify(others)}; swaps ${swaps.join(' / ')}`);
  expect(swaps.every((n) => n > 100), `the swapper barely ran: ${swaps}`).toBe(true);
  // Both states of the race were met: the window was really exercised.
  expect(total.ok).toBeGreaterThan(CALLS_PER_RUNTIME / 20);
  expect(total.refused).toBeGreaterThan(CALLS_PER_RUNTIME / 20);
  // Other refusals are the race seen from inside (a file moved or deleted by a sibling call, a directory mid-swap), never anything else.
  for (const code of Object.keys(others)) expect(['E_NOT_FOUND', 'E_NOT_A_DIRECTORY', 'E_CONFLICT'], `unexpected ${code}`).toContain(code);

  expect(treeSnapshot(outsideDir)).toEqual(before.outside);
  expect(treeSnapshot(otherRoot)).toEqual(before.other);
  // The other tenant still reads its own file, untouched.
  const theirs = await connectModernHttp(server.url, server.token('bystander', 'bob'));
  expect((await theirs.call('file_read', { path: 'f.txt', workspace: 'theirs' })).structured?.['content']).toBe(`${OTHER_MARKER} f.txt`);
  await theirs.close();
}

beforeAll(async () => {
  server = await startTestServer();
  agent = await connectModernHttp(server.url, server.token('mallory', 'mallory'));
  const bystander = await connectModernHttp(server.url, server.token('bystander', 'bob'));
  const theirs = await bystander.call('workspace_create', { name: 'theirs' });
  expect(theirs.isError, theirs.text).toBe(false);
  otherRoot = theirs.structured!['root'] as string;
  await bystander.close();
  fill(otherRoot, OTHER_MARKER, OTHER_ONLY);
  outsideDir = realpathSync(tempDir('codebuddy-outside-'));
  fill(outsideDir, OUTSIDE_MARKER, OUTSIDE_ONLY);
});

afterAll(async () => {
  await agent?.close();
  await server?.close();
  if (outsideDir) rmSync(outsideDir, { recursive: true, force: true });
});

describe('a directory swapped for a symlink mid-call never leads a file tool outside', () => {
  it('local workspace, swapper on the host', async () => {
    const created = await agent.call('workspace_create', { name: 'local-box' });
    expect(created.isError, created.text).toBe(false);
    const root = created.structured!['root'] as string;
    await race('local-box', root, ['python3'], join(root, EXCHANGE_SCRIPT_NAME), root);
  }, 60_000);

  it.runIf(engineReady || process.env.CI)('Docker workspace, swapper in the container', async () => {
    const created = await agent.call('workspace_create', { name: 'docker-box', runtime: 'docker' });
    expect(created.isError, created.text).toBe(false);
    const root = created.structured!['root'] as string;
    const container = created.structured!['container_id'] as string;
    try {
      await race('docker-box', root, ['docker', 'exec', '-i', container, 'python3'], `/workspace/${EXCHANGE_SCRIPT_NAME}`, '/workspace');
    } finally {
      await agent.call('workspace_delete', { workspace: 'docker-box' });
    }
  }, 120_000);
});
