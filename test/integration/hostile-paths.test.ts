/**
 * A battery of hostile paths thrown at every file tool over real HTTP MCP.
 *
 * The set-up is an attacker's dream: tenant `hostile-a` owns a workspace `victim` full of
 * symlinks that lead out of it (to /etc, to a directory outside every workspace, to the
 * sibling workspace `sibling`, to a single outside file, through a chain, dangling, and
 * `../..`). Every case must end in a clean error with a stable code, or in a success that
 * stays inside `victim`. Whatever happens, nothing outside is read (the secret markers
 * never appear in an answer), written (the outside directory, the sibling workspace and
 * the rest of the data directory are byte-identical before and after), or revealed (no
 * answer names an outside absolute path the caller did not send).
 *
 * Writes that would land in a system directory if confinement failed are guarded (an
 * `expected_sha256` that cannot match, a source or target that does not exist), so even a
 * broken server cannot modify /etc from this test; the assertion still fails on it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectHttp, type McpClient, type ToolAnswer } from '../helpers/mcp-clients.js';
import { treeSnapshot } from '../helpers/tree-snapshot.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/test-server.js';

const TENANT = 'hostile-a';
const tag = randomBytes(6).toString('hex');
const OUTSIDE_MARKER = `CB-OUTSIDE-SECRET-${tag}`;
const SIBLING_MARKER = `CB-SIBLING-SECRET-${tag}`;
const PASSWD_MARKER = 'root:x:0:0';
/** File names that exist only outside `victim` and that no request ever mentions: a listing leak shows them. */
const OUTSIDE_ONLY_NAME = `cb-outside-only-${tag}.txt`;
const SIBLING_ONLY_NAME = `cb-sibling-only-${tag}.md`;
const MOVABLE = 'move me\n';
const WS = { workspace: 'victim' };

interface Env {
  server: TestServer;
  clients: Record<McpClient['era'], McpClient>;
  token: string;
  victimRoot: string;
  siblingRoot: string;
  siblingId: string;
  outsideDir: string;
  outsideFile: string;
  /** `<dataDir>/workspaces`: everything in it but `victim` must stay as it was. */
  workspacesDir: string;
  before: Record<string, Record<string, string>>;
}

let env: Env;
let answered = 0;


function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function snapshots(): Record<string, Record<string, string>> {
  return {
    outside: treeSnapshot(env.outsideDir),
    sibling: treeSnapshot(env.siblingRoot),
    workspacesButVictim: treeSnapshot(env.workspacesDir, (absolute) => absolute === env.victimRoot),
  };
}

/** Where a stray write from a `..` escape would land in the shared temp directory or the file system root. */
function strayPwnFiles(): string[] {
  const stray: string[] = [];
  for (const dir of [tmpdir(), '/', '/etc', dirname(env.server.dataDir)]) {
    for (const name of readdirSync(dir)) if (name.includes('cbpwn')) stray.push(join(dir, name));
  }
  return stray;
}

/** One tool call, checked for leaks on the way back: no secret content, no outside path the request did not carry. */
async function call(client: McpClient, tool: string, args: Record<string, unknown>): Promise<ToolAnswer> {
  const answer = await client.call(tool, args);
  answered++;
  const blob = JSON.stringify({ text: answer.text, structured: answer.structured, meta: answer.meta });
  const sent = JSON.stringify(args);
  const context = `${tool} ${sent.slice(0, 300)} answered ${blob.slice(0, 600)}`;
  for (const secret of [OUTSIDE_MARKER, SIBLING_MARKER, PASSWD_MARKER, OUTSIDE_ONLY_NAME, SIBLING_ONLY_NAME]) {
    expect(blob.includes(secret), `secret ${secret} leaked: ${context}`).toBe(false);
  }
  for (const hostPath of [env.outsideDir, env.siblingRoot, env.victimRoot, env.workspacesDir]) {
    if (blob.includes(hostPath)) expect(sent.includes(hostPath), `host path ${hostPath} revealed: ${context}`).toBe(true);
  }
  expect(answer.code, `internal error: ${context}`).not.toBe('E_INTERNAL');
  if (answer.isError) expect(answer.code, `error answer without a stable code: ${context}`).toMatch(/^E_[A-Z_]+$/);
  if (!answer.isError) assertStaysInside(answer, context);
  return answer;
}

/** Every path a successful answer names is workspace-relative and, if it exists, really inside `victim`. */
function assertStaysInside(answer: ToolAnswer, context: string): void {
  const s = (answer.structured ?? {}) as Record<string, unknown>;
  const named: string[] = [];
  for (const key of ['path', 'from', 'to']) if (typeof s[key] === 'string') named.push(s[key] as string);
  for (const entry of (s['entries'] as { path: string }[] | undefined) ?? []) named.push(entry.path);
  for (const path of (s['paths'] as string[] | undefined) ?? []) named.push(path);
  for (const match of (s['matches'] as { path: string }[] | undefined) ?? []) named.push(match.path);
  for (const path of named) {
    expect(path.startsWith('/') || path.split('/').includes('..') || path.includes('\0'), `answer names a non-relative path ${JSON.stringify(path)}: ${context}`).toBe(false);
    const absolute = join(env.victimRoot, path);
    if (path !== '' && exists(absolute)) {
      const parent = realpathSync(dirname(absolute));
      expect(parent === env.victimRoot || parent.startsWith(env.victimRoot + sep), `${path} lies outside the workspace: ${context}`).toBe(true);
    }
  }
}

type Op = 'read' | 'stat' | 'edit' | 'list' | 'glob' | 'search' | 'write' | 'moveFrom' | 'moveTo' | 'delete';
const OPS: Op[] = ['read', 'stat', 'edit', 'list', 'glob', 'search', 'write', 'moveFrom', 'moveTo', 'delete'];

/**
 * The request of one operation on one hostile path. `system` marks paths that would reach
 * outside the temp directories if confinement failed: their writes are made harmless.
 */
function request(op: Op, path: string, system: boolean): [string, Record<string, unknown>] {
  // Below the hostile path, so still hostile, but never an existing system file.
  const harmless = system ? `${path}/cbpwn-missing-${tag}` : path;
  switch (op) {
    case 'read':
      return ['file_read', { path, ...WS }];
    case 'stat':
      return ['file_stat', { path, ...WS }];
    case 'edit':
      // Every secret file holds `SECRET` once: a confinement failure would really edit it (and the snapshots see it).
      return ['file_edit', { path, edits: [{ old: system ? `cbpwn-no-such-text-${tag}` : 'SECRET', new: 'PWNED' }], ...WS }];
    case 'list':
      return ['file_list', { path, depth: 3, ...WS }];
    case 'glob':
      return ['file_glob', { pattern: '**', path, ...WS }];
    case 'search':
      return ['file_search', { pattern: 'SECRET', path, ...WS }];
    case 'write':
      return ['file_write', { path, content: `cbpwn ${tag}\n`, ...(system ? { expected_sha256: '0'.repeat(64) } : {}), ...WS }];
    case 'moveFrom':
      return ['file_move', { from: harmless, to: `cbpwn-stolen-${tag}.txt`, ...WS }];
    case 'moveTo':
      return ['file_move', { from: system ? `cbpwn-no-such-source-${tag}.txt` : 'movable.txt', to: path, ...WS }];
    case 'delete':
      return ['file_delete', { path: harmless, ...WS }];
  }
}

/** Runs every operation on `path`; answers, per operation, `ok` or the error code (or the unexpected success's text). */
async function battery(client: McpClient, path: string, system: boolean, ops: Op[] = OPS): Promise<Record<Op, string>> {
  const outcome = {} as Record<Op, string>;
  for (const op of ops) {
    const [tool, args] = request(op, path, system);
    const answer = await call(client, tool, args);
    outcome[op] = answer.isError ? answer.code! : `ok: ${answer.text.slice(0, 160)}`;
  }
  return outcome;
}

const all = <T>(value: T, ops: Op[] = OPS) => Object.fromEntries(ops.map((op) => [op, value])) as Record<Op, T>;

interface EscapeCase {
  label: string;
  path: (e: Env) => string;
  /** Would land outside the temp directories (in /etc, /, C:\…) if confinement failed. */
  system?: boolean;
}

const p = (path: string) => () => path;

/** Paths that leave the workspace: every operation must answer E_PATH_OUTSIDE_WORKSPACE. */
const escapes: EscapeCase[] = [
  // `..` in every position
  { label: 'leading ..', path: p('../cbpwn.txt') },
  { label: 'bare ..', path: p('..') },
  { label: '.. in the middle escaping (docs/../../x)', path: p('docs/../../cbpwn.txt') },
  { label: '.. in the middle through a missing dir (a/../../x)', path: p('a/../../cbpwn.txt') },
  { label: '.. in the middle staying inside (docs/../readme.md): any .. segment is refused', path: p('docs/../readme.md') },
  { label: 'trailing .. (docs/..)', path: p('docs/..') },
  { label: 'trailing double .. (docs/../..)', path: p('docs/../..') },
  { label: './../x', path: p('./../cbpwn.txt') },
  { label: '../../../../ into the shared temp dir', path: p('../../../../cbpwn-tmp.txt') },
  { label: '../<sibling id>/secret.md straight into the sibling workspace', path: (e) => `../${e.siblingId}/secret.md` },
  { label: 'deep ../ to /etc/passwd', path: p('../../../../../../../../../../etc/passwd'), system: true },
  // absolute paths
  { label: 'absolute /etc/passwd', path: p('/etc/passwd'), system: true },
  { label: 'absolute / (the file system root)', path: p('/'), system: true },
  { label: "absolute sibling workspace root", path: (e) => e.siblingRoot },
  { label: 'absolute sibling secret file', path: (e) => `${e.siblingRoot}/secret.md` },
  { label: 'absolute outside secret file', path: (e) => e.outsideFile },
  { label: 'absolute outside directory', path: (e) => e.outsideDir },
  { label: "the victim's own absolute path (absolute is refused even when inside)", path: (e) => `${e.victimRoot}/readme.md` },
  // Windows style
  { label: 'backslashes ..\\..\\etc\\passwd', path: p('..\\..\\etc\\passwd'), system: true },
  { label: 'backslashes docs\\..\\..\\x', path: p('docs\\..\\..\\cbpwn.txt') },
  { label: 'drive letter C:\\Windows\\win.ini', path: p('C:\\Windows\\win.ini'), system: true },
  { label: 'drive-relative c:cbpwn.txt', path: p('c:cbpwn.txt'), system: true },
  { label: 'UNC \\\\server\\share', path: p('\\\\server\\share\\cbpwn.txt'), system: true },
  // newlines do not hide a ..
  { label: 'newline then .. (x\\n/../../x)', path: p('x\n/../../cbpwn.txt') },
  // symlinks, each escape: the link itself and paths through it
  { label: 'symlink to /etc', path: p('link-etc'), system: true },
  { label: 'through the symlink to /etc (link-etc/passwd)', path: p('link-etc/passwd'), system: true },
  { label: 'symlink to the outside directory', path: p('link-outdir') },
  { label: 'through the outside-dir symlink to the secret', path: p('link-outdir/secret.txt') },
  { label: 'through the outside-dir symlink to a new file', path: p('link-outdir/cbpwn-new.txt') },
  { label: 'through the outside-dir symlink into a subdirectory', path: p('link-outdir/sub/deeper.txt') },
  { label: 'symlink to the sibling workspace root', path: p('link-sibling') },
  { label: 'through the sibling symlink to its secret', path: p('link-sibling/secret.md') },
  { label: 'symlink to the outside secret file', path: p('link-outfile') },
  { label: 'symlink chain chain-a -> chain-b -> outside', path: p('chain-a') },
  { label: 'through the symlink chain to the secret', path: p('chain-a/secret.txt') },
  { label: 'relative symlink up -> ../..', path: p('up') },
  { label: 'through ../.. symlink into the sibling workspace', path: (e) => `up/${TENANT}/${e.siblingId}/secret.md` },
  { label: 'nested symlink docs/inner-out -> outside', path: p('docs/inner-out/secret.txt') },
  { label: 'symlink via an inside link then out (link-docs/inner-out)', path: p('link-docs/inner-out/secret.txt') },
  { label: 'symlink loop', path: p('loop') },
  { label: 'through a symlink loop', path: p('loop/cbpwn.txt') },
];

interface LiteralCase {
  label: string;
  path: string;
  /** What the server must turn it into: a plain name (or names) inside the workspace. */
  relative: string;
  /** Top directory the case creates, removed afterwards. */
  cleanup?: string;
}

/** Odd inputs that are only names: they must stay literal names inside the workspace. */
const literals: LiteralCase[] = [
  { label: 'percent-encoded ../etc/passwd', path: '%2e%2e%2fetc%2fpasswd', relative: '%2e%2e%2fetc%2fpasswd' },
  { label: 'percent-encoded slashes ..%2f..%2fetc', path: '..%2f..%2fetc', relative: '..%2f..%2fetc' },
  { label: 'double percent-encoded %252e%252e', path: '%252e%252e', relative: '%252e%252e' },
  { label: 'percent-encoded dots as directories', path: '%2e%2e/%2e%2e/cbpwn.txt', relative: '%2e%2e/%2e%2e/cbpwn.txt', cleanup: '%2e%2e' },
  { label: 'fullwidth dots ．．/etc', path: '\uFF0E\uFF0E/etc', relative: '\uFF0E\uFF0E/etc', cleanup: '\uFF0E\uFF0E' },
  { label: 'fullwidth dots and solidus ．．／etc／passwd', path: '\uFF0E\uFF0E\uFF0Fetc\uFF0Fpasswd', relative: '\uFF0E\uFF0E\uFF0Fetc\uFF0Fpasswd' },
  { label: 'two-dot leader ‥/etc', path: '\u2025/etc', relative: '\u2025/etc', cleanup: '\u2025' },
  { label: 'division slash ..∕etc', path: '..\u2215etc', relative: '..\u2215etc' },
  { label: 'three dots', path: '...', relative: '...' },
  { label: 'file:///etc/passwd URL', path: 'file:///etc/passwd', relative: 'file:/etc/passwd', cleanup: 'file:' },
  { label: '~/.ssh/id_rsa', path: '~/.ssh/id_rsa', relative: '~/.ssh/id_rsa', cleanup: '~' },
  { label: 'newline inside a name', path: 'line1\nline2.txt', relative: 'line1\nline2.txt' },
  { label: 'redundant ./ and // segments', path: './/cbdir//./inner.txt', relative: 'cbdir/inner.txt', cleanup: 'cbdir' },
  { label: '200 nested segments', path: `${'n/'.repeat(200)}deep.txt`, relative: `${'n/'.repeat(200)}deep.txt`, cleanup: 'n' },
];

interface InvalidCase {
  label: string;
  path: string;
  codes: string[];
}

/** Inputs no path looks like: every operation refuses them with a stable code. */
const invalids: InvalidCase[] = [
  { label: 'empty string', path: '', codes: ['E_INVALID_ARGUMENT'] },
  { label: '5000-char path', path: 'x'.repeat(5000), codes: ['E_INVALID_ARGUMENT'] },
  { label: '300-char single segment', path: 'L'.repeat(300), codes: ['E_INVALID_ARGUMENT'] },
  { label: 'NUL inside a name (a.txt\\0.png)', path: 'a.txt\u0000.png', codes: ['E_INVALID_ARGUMENT', 'E_PATH_OUTSIDE_WORKSPACE'] },
  { label: 'lone NUL', path: '\u0000', codes: ['E_INVALID_ARGUMENT', 'E_PATH_OUTSIDE_WORKSPACE'] },
  { label: 'NUL then ../', path: 'readme.md\u0000/../../etc/passwd', codes: ['E_INVALID_ARGUMENT', 'E_PATH_OUTSIDE_WORKSPACE'] },
];

async function setUp(): Promise<Env> {
  const server = await startTestServer();
  const token = server.token(TENANT, 'mallory');
  const modern = await connectHttp('2026-07-28', server.url, token);
  const legacy = await connectHttp('2025-11-25', server.url, token);

  const victim = await modern.call('workspace_create', { name: 'victim' });
  const sibling = await modern.call('workspace_create', { name: 'sibling' });
  expect(victim.isError, victim.text).toBe(false);
  expect(sibling.isError, sibling.text).toBe(false);
  const victimRoot = victim.structured!['root'] as string;
  const siblingRoot = sibling.structured!['root'] as string;

  for (const [path, content] of [
    ['readme.md', '# victim\nhello from the victim\n'],
    ['docs/guide.md', 'a guide\n'],
    ['src/main.ts', 'export const main = 1;\n'],
    ['movable.txt', MOVABLE],
  ] as const) {
    const written = await modern.call('file_write', { path, content, ...WS });
    expect(written.isError, written.text).toBe(false);
  }
  for (const [path, content] of [
    ['secret.md', `${SIBLING_MARKER}\n`],
    [SIBLING_ONLY_NAME, `${SIBLING_MARKER} too\n`],
  ] as const) {
    const written = await modern.call('file_write', { path, content, workspace: 'sibling' });
    expect(written.isError, written.text).toBe(false);
  }

  const outsideDir = realpathSync(tempDir('codebuddy-outside-'));
  const outsideFile = join(outsideDir, 'secret.txt');
  writeFileSync(outsideFile, `${OUTSIDE_MARKER}\n`);
  writeFileSync(join(outsideDir, OUTSIDE_ONLY_NAME), `${OUTSIDE_MARKER} again\n`);
  mkdirSync(join(outsideDir, 'sub'));
  writeFileSync(join(outsideDir, 'sub', 'deeper.txt'), `${OUTSIDE_MARKER} deeper\n`);

  const link = (target: string, name: string) => symlinkSync(target, join(victimRoot, name));
  link('/etc', 'link-etc');
  link(outsideDir, 'link-outdir');
  link(siblingRoot, 'link-sibling');
  link(outsideFile, 'link-outfile');
  link('chain-b', 'chain-a');
  link(outsideDir, 'chain-b');
  link(join(outsideDir, 'cbpwn-dangling-target.txt'), 'dangling');
  link(join(outsideDir, 'cbpwn-dangling-dir'), 'dangling-dir');
  link('../..', 'up');
  link('loop', 'loop');
  link(outsideDir, 'docs/inner-out');
  link('docs', 'link-docs');
  mkdirSync(join(victimRoot, 'trap'));
  writeFileSync(join(victimRoot, 'trap', 'keep.txt'), 'inside the trap\n');
  link(outsideDir, 'trap/out');
  link(outsideFile, 'trap/out-file');

  return {
    server,
    clients: { '2026-07-28': modern, '2025-11-25': legacy },
    token,
    victimRoot,
    siblingRoot,
    siblingId: sibling.structured!['id'] as string,
    outsideDir,
    outsideFile,
    workspacesDir: dirname(dirname(victimRoot)),
    before: {},
  };
}

describe('hostile paths over HTTP MCP', () => {
  beforeAll(async () => {
    env = await setUp();
    env.before = snapshots();
    expect(strayPwnFiles()).toEqual([]);
  });

  afterAll(async () => {
    if (!env) return;
    await Promise.allSettled(Object.values(env.clients).map((client) => client.close()));
    // Strays can only exist if confinement failed (and the last test said so); never leave them behind.
    for (const stray of strayPwnFiles()) if (stray.startsWith(tmpdir() + sep)) rmSync(stray, { recursive: true, force: true });
    await env.server.close();
    rmSync(env.outsideDir, { recursive: true, force: true });
  });

  it('the set-up is what the battery assumes (control: the files are readable through the tools)', async () => {
    const client = env.clients['2026-07-28'];
    const read = await call(client, 'file_read', { path: 'readme.md', ...WS });
    expect(read.isError).toBe(false);
    expect(read.structured?.['content']).toBe('# victim\nhello from the victim');
    expect(readFileSync(join(env.victimRoot, 'link-outdir', 'secret.txt'), 'utf8')).toContain(OUTSIDE_MARKER);
    expect(readFileSync(join(env.victimRoot, 'link-sibling', 'secret.md'), 'utf8')).toContain(SIBLING_MARKER);
    expect(env.victimRoot.startsWith(env.workspacesDir + sep)).toBe(true);
    expect(env.siblingRoot.startsWith(env.workspacesDir + sep)).toBe(true);
  });

  describe('escapes: every tool answers E_PATH_OUTSIDE_WORKSPACE (2026-07-28 era)', () => {
    it.each(escapes)('$label', async ({ path, system }) => {
      const outcome = await battery(env.clients['2026-07-28'], path(env), system ?? false);
      expect(outcome).toEqual(all('E_PATH_OUTSIDE_WORKSPACE'));
      expect(readFileSync(join(env.victimRoot, 'movable.txt'), 'utf8')).toBe(MOVABLE);
    });
  });

  describe('inputs no path looks like: refused with a stable code (2026-07-28 era)', () => {
    it.each(invalids)('$label', async ({ path, codes }) => {
      const outcome = await battery(env.clients['2026-07-28'], path, false);
      const judged = Object.fromEntries(Object.entries(outcome).map(([op, result]) => [op, codes.includes(result) ? 'refused' : result]));
      expect(judged).toEqual(all('refused'));
    });
  });

  async function literalLifecycle(client: McpClient, { path, relative, cleanup }: LiteralCase): Promise<void> {
    const absolute = join(env.victimRoot, ...relative.split('/'));
    const content = `cbpwn literal ${tag}\n`;
    expect(exists(absolute)).toBe(false);

    // Not there yet: a plain not-found, never an escape or an internal error.
    const missing = await battery(client, path, false, ['read', 'stat', 'edit', 'list', 'moveFrom', 'delete']);
    expect(missing).toEqual(all('E_NOT_FOUND', ['read', 'stat', 'edit', 'list', 'moveFrom', 'delete']));
    for (const op of ['glob', 'search'] as const) {
      const [tool, args] = request(op, path, false);
      const answer = await call(client, tool, args);
      if (answer.isError) expect(answer.code).toBe('E_NOT_FOUND');
      else expect(answer.structured?.[op === 'glob' ? 'paths' : 'matches']).toEqual([]);
    }

    // As the target of a move, then as its source.
    const moved = await call(client, 'file_move', { from: 'movable.txt', to: path, ...WS });
    expect(moved.isError, moved.text).toBe(false);
    expect(moved.structured?.['to']).toBe(relative);
    expect(readFileSync(absolute, 'utf8')).toBe(MOVABLE);
    const back = await call(client, 'file_move', { from: path, to: 'movable.txt', ...WS });
    expect(back.isError, back.text).toBe(false);
    expect(back.structured?.['from']).toBe(relative);
    expect(readFileSync(join(env.victimRoot, 'movable.txt'), 'utf8')).toBe(MOVABLE);

    // Written, read, stat'ed, edited, deleted: all of it inside the workspace.
    const written = await call(client, 'file_write', { path, content, ...WS });
    expect(written.isError, written.text).toBe(false);
    expect(written.structured).toMatchObject({ path: relative, created: true });
    expect(readFileSync(absolute, 'utf8')).toBe(content);
    const read = await call(client, 'file_read', { path, ...WS });
    expect(read.structured).toMatchObject({ path: relative, content: content.trimEnd() });
    const stat = await call(client, 'file_stat', { path, ...WS });
    expect(stat.structured).toMatchObject({ path: relative, type: 'file', size: Buffer.byteLength(content) });
    const edited = await call(client, 'file_edit', { path, edits: [{ old: 'literal', new: 'LITERAL' }], ...WS });
    expect(edited.isError, edited.text).toBe(false);
    expect(readFileSync(absolute, 'utf8')).toBe(content.replace('literal', 'LITERAL'));
    const deleted = await call(client, 'file_delete', { path, ...WS });
    expect(deleted.structured).toMatchObject({ path: relative, type: 'file' });
    expect(exists(absolute)).toBe(false);
    if (cleanup) {
      const removed = await call(client, 'file_delete', { path: cleanup, recursive: true, ...WS });
      expect(removed.structured).toMatchObject({ path: cleanup, type: 'directory' });
    }
  }

  describe('odd names are literal names inside the workspace (2026-07-28 era)', () => {
    it.each(literals)('$label', async (literal) => {
      await literalLifecycle(env.clients['2026-07-28'], literal);
    });
  });

  it.each([
    { label: '.', path: '.' },
    { label: './', path: './' },
    { label: './/./', path: './/./' },
  ])('the root spelled $label: read/edit/write refuse a directory, delete/move refuse the root', async ({ path }) => {
    const outcome = await battery(env.clients['2026-07-28'], path, false);
    expect(Object.fromEntries(Object.entries(outcome).map(([op, result]) => [op, result.startsWith('ok') ? 'ok' : result]))).toEqual({
      read: 'E_NOT_A_FILE',
      stat: 'ok',
      edit: 'E_NOT_A_FILE',
      list: 'ok',
      glob: 'ok',
      search: 'ok',
      write: 'E_NOT_A_FILE',
      moveFrom: 'E_INVALID_ARGUMENT',
      moveTo: 'E_CONFLICT',
      delete: 'E_INVALID_ARGUMENT',
    });
    const stat = await call(env.clients['2026-07-28'], 'file_stat', { path, ...WS });
    expect(stat.structured).toMatchObject({ path: '', type: 'directory' });
  });

  it('a path of ~4000 chars made of short segments: refused as too long, and nothing created', async () => {
    const path = `${'b/'.repeat(2040)}x.txt`;
    expect(path.length).toBeLessThanOrEqual(4096);
    const outcome = await battery(env.clients['2026-07-28'], path, false, ['read', 'write', 'moveTo', 'delete', 'glob']);
    const { glob, ...rest } = outcome;
    expect(rest).toEqual(all('E_INVALID_ARGUMENT', ['read', 'write', 'moveTo', 'delete']));
    // A directory that cannot exist simply has no files.
    expect(glob).toMatch(/^(ok: no files match|E_INVALID_ARGUMENT|E_NOT_FOUND)$/);
    expect(exists(join(env.victimRoot, 'b'))).toBe(false);
  });

  it('a dangling symlink to a missing outside file: never creates the outside target', async () => {
    const client = env.clients['2026-07-28'];
    const target = join(env.outsideDir, 'cbpwn-dangling-target.txt');
    const refusedOrMissing = ['E_NOT_FOUND', 'E_PATH_OUTSIDE_WORKSPACE'];
    expect(refusedOrMissing).toContain((await call(client, 'file_read', { path: 'dangling', ...WS })).code);
    expect(refusedOrMissing).toContain((await call(client, 'file_edit', { path: 'dangling', edits: [{ old: 'a', new: 'b' }], ...WS })).code);
    expect(['E_NOT_A_DIRECTORY', ...refusedOrMissing]).toContain((await call(client, 'file_list', { path: 'dangling', ...WS })).code);
    const stat = await call(client, 'file_stat', { path: 'dangling', ...WS });
    if (stat.isError) expect(stat.code).toBe('E_PATH_OUTSIDE_WORKSPACE');
    else expect(stat.structured).toMatchObject({ path: 'dangling', type: 'symlink' });

    const written = await call(client, 'file_write', { path: 'dangling', content: `cbpwn ${tag}\n`, ...WS });
    expect(exists(target), 'a write through a dangling symlink created the outside file').toBe(false);
    if (written.isError) expect(written.code).toBe('E_PATH_OUTSIDE_WORKSPACE');
    else {
      // The link itself was replaced by a regular file inside the workspace.
      expect(lstatSync(join(env.victimRoot, 'dangling')).isFile()).toBe(true);
      expect(readFileSync(join(env.victimRoot, 'dangling'), 'utf8')).toBe(`cbpwn ${tag}\n`);
    }
  });

  it('a dangling symlink to a missing outside directory: writing or moving below it creates nothing outside', async () => {
    const client = env.clients['2026-07-28'];
    const target = join(env.outsideDir, 'cbpwn-dangling-dir');
    const refused = ['E_NOT_FOUND', 'E_NOT_A_DIRECTORY', 'E_PATH_OUTSIDE_WORKSPACE'];
    const written = await call(client, 'file_write', { path: 'dangling-dir/cbpwn.txt', content: `cbpwn ${tag}\n`, ...WS });
    expect(refused, written.text).toContain(written.code);
    const moved = await call(client, 'file_move', { from: 'movable.txt', to: 'dangling-dir/cbpwn-moved.txt', ...WS });
    expect(refused, moved.text).toContain(moved.code);
    const nested = await call(client, 'file_write', { path: 'dangling-dir/a/b/cbpwn.txt', content: 'x', ...WS });
    expect(refused, nested.text).toContain(nested.code);
    expect(exists(target), 'the outside directory a dangling symlink names was created').toBe(false);
    expect(readFileSync(join(env.victimRoot, 'movable.txt'), 'utf8')).toBe(MOVABLE);
  });

  it('control: a symlink to a directory inside the workspace works and answers the real path', async () => {
    const client = env.clients['2026-07-28'];
    const read = await call(client, 'file_read', { path: 'link-docs/guide.md', ...WS });
    expect(read.isError, read.text).toBe(false);
    expect(read.structured).toMatchObject({ path: 'docs/guide.md', content: 'a guide' });
    const list = await call(client, 'file_list', { path: 'link-docs', ...WS });
    expect(list.isError, list.text).toBe(false);
    expect((list.structured!['entries'] as { path: string }[]).map((e) => e.path)).toContain('docs/guide.md');
  });

  it('walks from the root never follow a symlink: list, glob and search see the links, not what is behind them', async () => {
    const client = env.clients['2026-07-28'];
    const isLink = (path: string) => lstatSync(join(env.victimRoot, path)).isSymbolicLink();
    /** No entry lies below a symlink. */
    const notBehindLink = (path: string) => {
      const parts = path.split('/');
      return parts.slice(0, -1).every((_, index) => !isLink(parts.slice(0, index + 1).join('/')));
    };

    const list = await call(client, 'file_list', { depth: 20, ...WS });
    const entries = list.structured!['entries'] as { path: string; type: string }[];
    expect(entries.filter((e) => !notBehindLink(e.path))).toEqual([]);
    for (const name of ['link-etc', 'link-outdir', 'link-sibling', 'link-outfile', 'chain-a', 'up', 'loop', 'docs/inner-out']) {
      expect(entries).toContainEqual({ path: name, type: 'symlink' });
    }

    const glob = await call(client, 'file_glob', { pattern: '**', ...WS });
    const paths = glob.structured!['paths'] as string[];
    expect(paths).toContain('readme.md');
    expect(paths.filter((path) => !notBehindLink(path) || isLink(path))).toEqual([]);
    for (const pattern of ['**/secret.txt', '**/secret.md', '**/passwd', `**/${OUTSIDE_ONLY_NAME.slice(0, 20)}*`, '**/deeper.txt']) {
      expect((await call(client, 'file_glob', { pattern, ...WS })).structured!['paths'], pattern).toEqual([]);
    }

    for (const args of [
      { pattern: 'SECRET' },
      { pattern: 'secret', ignore_case: true },
      { pattern: '.*SECRET.*', regex: true },
      { pattern: 'root:x', context: 2 },
      { pattern: 'SECRET', glob: '**/*.txt' },
    ]) {
      const search = await call(client, 'file_search', { ...args, ...WS });
      expect(search.isError, search.text).toBe(false);
      expect(search.structured?.['total'], JSON.stringify(args)).toBe(0);
    }
    // Control: the search does work on the victim's own files.
    expect((await call(client, 'file_search', { pattern: 'hello from the victim', ...WS })).structured?.['total']).toBe(1);
  });

  it.each([
    { label: 'glob pattern ../**', args: { pattern: '../**' }, code: 'E_PATH_OUTSIDE_WORKSPACE' },
    { label: 'glob pattern /etc/*', args: { pattern: '/etc/*' }, code: 'E_PATH_OUTSIDE_WORKSPACE' },
    { label: 'glob pattern link-outdir/**', args: { pattern: 'link-outdir/**' }, code: 'E_PATH_OUTSIDE_WORKSPACE' },
    { label: 'glob pattern up/**/secret.md', args: { pattern: 'up/**/secret.md' }, code: 'E_PATH_OUTSIDE_WORKSPACE' },
    { label: 'glob pattern docs/inner-out/*.txt', args: { pattern: 'docs/inner-out/*.txt' }, code: 'E_PATH_OUTSIDE_WORKSPACE' },
    { label: 'glob pattern with .. under a path', args: { pattern: '../../**', path: 'docs' }, code: 'E_PATH_OUTSIDE_WORKSPACE' },
  ])('file_glob $label is refused', async ({ args, code }) => {
    const answer = await call(env.clients['2026-07-28'], 'file_glob', { ...args, ...WS });
    expect(answer.code, answer.text).toBe(code);
  });

  it.each([
    { label: 'glob ../**', glob: '../**' },
    { label: 'glob /**', glob: '/**' },
    { label: 'glob link-outdir/**', glob: 'link-outdir/**' },
  ])('file_search with $label finds nothing outside', async ({ glob }) => {
    const answer = await call(env.clients['2026-07-28'], 'file_search', { pattern: 'SECRET', glob, ...WS });
    if (answer.isError) expect(['E_INVALID_ARGUMENT', 'E_PATH_OUTSIDE_WORKSPACE']).toContain(answer.code);
    else expect(answer.structured?.['total']).toBe(0);
  });

  it('forged cursors cannot point a read outside', async () => {
    const client = env.clients['2026-07-28'];
    const forge = (state: Record<string, unknown>) => Buffer.from(JSON.stringify(state)).toString('base64url');
    const read = await call(client, 'file_read', { path: 'readme.md', cursor: forge({ k: 'file_read', path: '../../etc/passwd', line: 1 }), ...WS });
    expect(read.code).toBe('E_INVALID_CURSOR');
    const throughLink = await call(client, 'file_read', { path: 'link-outfile', cursor: forge({ k: 'file_read', path: 'link-outfile', line: 1 }), ...WS });
    expect(throughLink.code).toBe('E_PATH_OUTSIDE_WORKSPACE');
    const list = await call(client, 'file_list', { cursor: forge({ k: 'file_list', q: 'link-outdir\u00002', skip: 0 }), ...WS });
    expect(list.code).toBe('E_INVALID_CURSOR');
  });

  it('a recursive delete of a directory holding outside symlinks removes the links, not their targets', async () => {
    const answer = await call(env.clients['2026-07-28'], 'file_delete', { path: 'trap', recursive: true, ...WS });
    expect(answer.structured).toMatchObject({ path: 'trap', type: 'directory' });
    expect(exists(join(env.victimRoot, 'trap'))).toBe(false);
    expect(readFileSync(env.outsideFile, 'utf8')).toBe(`${OUTSIDE_MARKER}\n`);
    expect(existsSync(join(env.outsideDir, 'sub', 'deeper.txt'))).toBe(true);
  });

  it.each([
    { label: '../sibling', workspace: '../sibling' },
    { label: '..', workspace: '..' },
    { label: 'the sibling root as an absolute path', workspace: 'SIBLING_ROOT' },
    { label: 'victim/../sibling', workspace: 'victim/../sibling' },
  ])('a hostile workspace reference ($label) is just not found', async ({ workspace }) => {
    const reference = workspace === 'SIBLING_ROOT' ? env.siblingRoot : workspace;
    const answer = await call(env.clients['2026-07-28'], 'file_read', { path: 'secret.md', workspace: reference });
    expect(answer.code, answer.text).toBe('E_NOT_FOUND');
  });

  it.each([
    { label: 'the outside directory', args: (e: Env) => ({ name: 'evil-outside', path: e.outsideDir }), code: 'E_FORBIDDEN' },
    { label: '/etc', args: () => ({ name: 'evil-etc', path: '/etc' }), code: 'E_FORBIDDEN' },
    { label: 'the sibling workspace root', args: (e: Env) => ({ name: 'evil-sibling', path: e.siblingRoot }), code: 'E_FORBIDDEN' },
    { label: 'a relative ../../..', args: () => ({ name: 'evil-relative', path: '../../..' }), code: 'E_FORBIDDEN' },
    { label: 'a name with ..', args: () => ({ name: '../evil' }), code: 'E_INVALID_ARGUMENT' },
    { label: 'a name with a slash', args: () => ({ name: 'a/b' }), code: 'E_INVALID_ARGUMENT' },
  ])('workspace_create adopting $label is refused (no allowed roots configured)', async ({ args, code }) => {
    const client = env.clients['2026-07-28'];
    const answer = await client.call('workspace_create', args(env));
    expect(answer.code, answer.text).toBe(code);
    const list = await client.call('workspace_list', {});
    expect((list.structured!['workspaces'] as { name: string }[]).map((w) => w.name).sort()).toEqual(['sibling', 'victim']);
  });

  it('workspace_create outside the allowed roots answers alike whether the host path is a directory, a file or missing', async () => {
    // Otherwise any tenant can probe the host file system (does /home/x/project exist? is /root/.ssh there?)
    // through the adoption path, though no directory outside the allowed roots can ever be adopted.
    const client = env.clients['2026-07-28'];
    const probes = {
      'an existing directory': env.outsideDir,
      'an existing file': env.outsideFile,
      'a missing path': join(env.outsideDir, `missing-${tag}`),
      'a path below a file': join(env.outsideFile, 'below'),
    };
    const answers: Record<string, { code: string | undefined; text: string }> = {};
    for (const [label, path] of Object.entries(probes)) {
      const answer = await client.call('workspace_create', { name: 'probe', path });
      expect(answer.isError, `${label}: ${answer.text}`).toBe(true);
      answers[label] = { code: answer.code, text: answer.text.split(path).join('<path>') };
    }
    const first = answers['an existing directory']!;
    expect(first.code).toBe('E_FORBIDDEN');
    expect(answers).toEqual(Object.fromEntries(Object.keys(probes).map((label) => [label, first])));
  });

  describe('a handful of the cases again over the 2025-11-25 era', () => {
    const picked = ['leading ..', 'absolute /etc/passwd', 'through the outside-dir symlink to the secret', 'symlink to the outside secret file', 'backslashes ..\\..\\etc\\passwd', 'through ../.. symlink into the sibling workspace', 'symlink chain chain-a -> chain-b -> outside'];
    const legacyEscapes = escapes.filter((c) => picked.includes(c.label));
    if (legacyEscapes.length !== picked.length) throw new Error('a picked 2025-era case label no longer matches an escape case');
    it.each(legacyEscapes)('$label', async ({ path, system }) => {
      const outcome = await battery(env.clients['2025-11-25'], path(env), system ?? false);
      expect(outcome).toEqual(all('E_PATH_OUTSIDE_WORKSPACE'));
    });
    it.each(invalids.filter((c) => c.label === 'lone NUL'))('$label', async ({ path, codes }) => {
      const outcome = await battery(env.clients['2025-11-25'], path, false);
      expect(Object.values(outcome).every((result) => codes.includes(result)), JSON.stringify(outcome)).toBe(true);
    });
    it.each(literals.filter((c) => c.label.startsWith('percent-encoded ../') || c.label.startsWith('fullwidth dots ．')))('$label', async (literal) => {
      await literalLifecycle(env.clients['2025-11-25'], literal);
    });
  });

  it('nothing outside was read, written or revealed, and the server still works', async () => {
    expect(answered).toBeGreaterThan(400);
    expect(snapshots()).toEqual(env.before);
    expect(strayPwnFiles()).toEqual([]);
    expect(readFileSync(env.outsideFile, 'utf8')).toBe(`${OUTSIDE_MARKER}\n`);
    expect(readFileSync(join(env.siblingRoot, 'secret.md'), 'utf8')).toBe(`${SIBLING_MARKER}\n`);
    expect(existsSync(join(env.victimRoot, `cbpwn-stolen-${tag}.txt`))).toBe(false);

    for (const client of Object.values(env.clients)) {
      const read = await call(client, 'file_read', { path: 'readme.md', ...WS });
      expect(read.isError, read.text).toBe(false);
      expect(read.structured).toMatchObject({ path: 'readme.md', content: '# victim\nhello from the victim', total_lines: 2 });
      expect(read.text).toBe('1\t# victim\n2\thello from the victim');
      const movable = await call(client, 'file_read', { path: 'movable.txt', ...WS });
      expect(movable.structured?.['content']).toBe('move me');
    }
  });
});
