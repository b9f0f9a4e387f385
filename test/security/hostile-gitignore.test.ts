/**
 * `.gitignore` files written by an attacker, over real HTTP MCP, with both search engines.
 *
 * The server reads every .gitignore on its walks (and ripgrep used to read them itself).
 * A FIFO there would block each reader for ever, filling the thread pool so every
 * tenant's file calls hang; a symlink to /dev/zero would be read without end; a symlink to
 * a host file would turn its lines into ignore patterns, an oracle on its content; a huge
 * one would cost its size in memory on every walk. Each must be ignored, at once: calls
 * answer promptly, listings stay complete, and another tenant notices nothing.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, realpathSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TextSearch } from '../../src/files/text-search.js';
import type { Workspace } from '../../src/workspaces/workspace.js';
import { connectModernHttp, type McpClient, type ToolAnswer } from '../helpers/mcp-clients.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/test-server.js';

const tag = randomBytes(6).toString('hex');
/** What "at once" means here: a blocked call never answers, a healthy one takes milliseconds. */
const PROMPT_MS = 5_000;
const FILES = ['keep.txt', 'sub/keep.md', 'sub/inner/deep.txt'];

async function promptly(label: string, answer: Promise<ToolAnswer>): Promise<ToolAnswer> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${label} did not answer within ${PROMPT_MS} ms`)), PROMPT_MS)));
  try {
    return await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe.each(['ripgrep', 'builtin'] as const)('hostile .gitignore files (searchEngine %s)', (searchEngine) => {
  let server: TestServer;
  let agent: McpClient;
  let bystander: McpClient;
  let root: string;
  let outsideDir: string;

  const ok = async (label: string, tool: string, args: Record<string, unknown>) => {
    const answer = await promptly(label, agent.call(tool, { ...args, workspace: 'box' }));
    expect(answer.isError, `${label}: ${answer.text}`).toBe(false);
    return answer.structured!;
  };

  /** Every file is still seen by list (from the root and from below a hostile directory), glob and search. */
  async function everythingVisible(label: string): Promise<void> {
    const listed = (await ok(`${label} file_list`, 'file_list', { depth: 5 }))['entries'] as { path: string }[];
    expect(listed.map((e) => e.path)).toEqual(expect.arrayContaining(FILES));
    // From below: the .gitignore files above the start are read too.
    const below = (await ok(`${label} file_list sub/inner`, 'file_list', { path: 'sub/inner' }))['entries'] as { path: string }[];
    expect(below.map((e) => e.path)).toEqual(['sub/inner/deep.txt']);
    expect((await ok(`${label} file_glob`, 'file_glob', { pattern: '**/*' }))['paths']).toEqual(expect.arrayContaining(FILES));
    expect((await ok(`${label} file_glob sub`, 'file_glob', { pattern: '**', path: 'sub' }))['paths']).toEqual(['sub/inner/deep.txt', 'sub/keep.md']);
    const found = await ok(`${label} file_search`, 'file_search', { pattern: `needle-${tag}` });
    expect((found['matches'] as { path: string }[]).map((m) => m.path)).toEqual([...FILES].sort());
    const foundBelow = await ok(`${label} file_search sub`, 'file_search', { pattern: `needle-${tag}`, path: 'sub/inner' });
    expect(foundBelow['total']).toBe(1);
  }

  function clearGitignores(): void {
    for (const path of ['.gitignore', 'sub/.gitignore']) rmSync(join(root, path), { force: true });
  }

  beforeAll(async () => {
    server = await startTestServer({ searchEngine });
    agent = await connectModernHttp(server.url, server.token('mallory', 'mallory'));
    bystander = await connectModernHttp(server.url, server.token('bystander', 'bob'));
    const box = await agent.call('workspace_create', { name: 'box' });
    expect(box.isError, box.text).toBe(false);
    root = box.structured!['root'] as string;
    for (const path of FILES) expect((await agent.call('file_write', { path, content: `needle-${tag}\n`, workspace: 'box' })).isError).toBe(false);
    expect((await bystander.call('workspace_create', { name: 'calm' })).isError).toBe(false);
    expect((await bystander.call('file_write', { path: 'hello.txt', content: 'hello\n', workspace: 'calm' })).isError).toBe(false);
    outsideDir = realpathSync(tempDir('codebuddy-outside-'));
  });

  afterAll(async () => {
    await Promise.allSettled([agent?.close(), bystander?.close()]);
    await server?.close();
    if (outsideDir) rmSync(outsideDir, { recursive: true, force: true });
  });

  it('control: a plain .gitignore does hide what it names (so the cases below prove something)', async () => {
    // A first search before the .gitignore exists: ripgrep's later searches start from what this one saw.
    expect((await ok('control file_search', 'file_search', { pattern: `needle-${tag}` }))['total']).toBe(3);
    for (const rules of ['*.md\ndeep.txt\n', '*.md\ninner/\n']) {
      writeFileSync(join(root, 'sub/.gitignore'), rules);
      const listed = (await ok('control file_list', 'file_list', { depth: 5 }))['entries'] as { path: string }[];
      expect(listed.map((e) => e.path)).not.toContain('sub/keep.md');
      expect(listed.map((e) => e.path)).not.toContain('sub/inner/deep.txt');
      for (let i = 0; i < 2; i++) {
        const found = await ok('control file_search', 'file_search', { pattern: `needle-${tag}` });
        expect((found['matches'] as { path: string }[]).map((m) => m.path)).toEqual(['keep.txt']);
      }
      expect((await ok('control file_search sub', 'file_search', { pattern: `needle-${tag}`, path: 'sub' }))['total']).toBe(0);
    }
    clearGitignores();
  });

  it('a FIFO .gitignore (root and nested) is ignored: list, glob and search answer at once', async () => {
    execFileSync('mkfifo', [join(root, '.gitignore'), join(root, 'sub/.gitignore')]);
    try {
      await everythingVisible('FIFO');
    } finally {
      clearGitignores();
    }
  });

  it('while FIFOs are there and many walks run, another tenant is served at once', async () => {
    execFileSync('mkfifo', [join(root, '.gitignore'), join(root, 'sub/.gitignore')]);
    try {
      // More walks than the thread pool has threads: each would hold one for ever if a FIFO were read.
      const kinds: [string, Record<string, unknown>][] = [
        ['file_search', { pattern: 'needle' }],
        ['file_glob', { pattern: '**' }],
        ['file_list', { depth: 5 }],
      ];
      const walks = Array.from({ length: 12 }, (_, i) => {
        const [tool, args] = kinds[i % kinds.length]!;
        return promptly(`walk ${i}`, agent.call(tool, { ...args, path: 'sub', workspace: 'box' }));
      });
      const started = Date.now();
      const theirs = await promptly('bystander file_read', bystander.call('file_read', { path: 'hello.txt', workspace: 'calm' }));
      expect(theirs.structured?.['content']).toBe('hello');
      expect((await promptly('bystander file_list', bystander.call('file_list', { workspace: 'calm' }))).isError).toBe(false);
      expect(Date.now() - started).toBeLessThan(PROMPT_MS);
      for (const answer of await Promise.all(walks)) expect(answer.isError, answer.text).toBe(false);
    } finally {
      clearGitignores();
    }
  });

  it('a .gitignore symlinked to /dev/zero is not followed and costs no memory', async () => {
    symlinkSync('/dev/zero', join(root, '.gitignore'));
    symlinkSync('/dev/zero', join(root, 'sub/.gitignore'));
    try {
      const before = process.memoryUsage().rss;
      await everythingVisible('/dev/zero');
      expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
      const listed = (await ok('list', 'file_list', {}))['entries'] as { path: string; type: string }[];
      expect(listed).toContainEqual({ path: '.gitignore', type: 'symlink' });
    } finally {
      clearGitignores();
    }
  });

  it('a .gitignore symlinked to an outside file is not an oracle: its lines hide nothing', async () => {
    // If the server read it, these patterns would hide exactly the files named after the secret's lines.
    const secret = join(outsideDir, `secret-${tag}`);
    writeFileSync(secret, '*.md\ndeep.txt\nkeep.txt\n');
    symlinkSync(secret, join(root, '.gitignore'));
    symlinkSync(secret, join(root, 'sub/.gitignore'));
    try {
      await everythingVisible('outside file');
    } finally {
      clearGitignores();
    }
  });

  it('a 50 MiB .gitignore is ignored', async () => {
    // It starts by ignoring everything: read, it would empty every answer.
    writeFileSync(join(root, '.gitignore'), Buffer.concat([Buffer.from('*\n'), Buffer.alloc(50 * 1024 * 1024, '#')]));
    mkdirSync(join(root, 'sub'), { recursive: true });
    try {
      const before = process.memoryUsage().rss;
      await everythingVisible('50 MiB');
      expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
    } finally {
      clearGitignores();
    }
  });

  it('file_read, file_edit and file_stat of a FIFO answer at once; file_write replaces it with a file', async () => {
    const fifo = join(root, `pipe-${tag}`);
    execFileSync('mkfifo', [fifo]);
    try {
      const read = await promptly('file_read FIFO', agent.call('file_read', { path: `pipe-${tag}`, workspace: 'box' }));
      expect(read.code, read.text).toBe('E_NOT_A_FILE');
      const edit = await promptly('file_edit FIFO', agent.call('file_edit', { path: `pipe-${tag}`, edits: [{ old: 'a', new: 'b' }], workspace: 'box' }));
      expect(edit.code, edit.text).toBe('E_NOT_A_FILE');
      const stat = await promptly('file_stat FIFO', agent.call('file_stat', { path: `pipe-${tag}`, workspace: 'box' }));
      expect(stat.structured).toMatchObject({ type: 'other' });
      expect(stat.structured?.['sha256']).toBeUndefined();
      const search = await promptly('file_search FIFO', agent.call('file_search', { pattern: 'x', path: `pipe-${tag}`, workspace: 'box' }));
      expect(search.isError ? search.code : search.structured?.['total'], search.text).toBe(0);
      const written = await promptly('file_write FIFO', agent.call('file_write', { path: `pipe-${tag}`, content: 'now a file\n', workspace: 'box' }));
      expect(written.isError, written.text).toBe(false);
    } finally {
      rmSync(fifo, { force: true });
    }
  });

  it('the server still serves both tenants afterwards', async () => {
    await everythingVisible('after');
    expect((await bystander.call('file_read', { path: 'hello.txt', workspace: 'calm' })).structured?.['content']).toBe('hello');
    expect(() => unlinkSync(join(root, '.gitignore'))).toThrow();
  });
});

describe('ripgrep is bounded in time', () => {
  it('is killed at its timeout, and the answer says so', async () => {
    const root = realpathSync(tempDir('codebuddy-slow-search-'));
    try {
      for (let i = 0; i < 200; i++) writeFileSync(join(root, `f${i}.txt`), `needle ${i}\n`.repeat(100));
      const workspace = { id: 'w', tenantId: 't', name: 'w', root, adopted: true, runtime: 'local', status: 'ready', createdBy: 'u', createdAt: 0 } satisfies Workspace;
      // No search finishes within a millisecond: spawning ripgrep alone takes longer.
      const search = new TextSearch({ engine: 'ripgrep', pageSize: 10, maxFileBytes: 1024 * 1024, timeoutMs: 1 });
      await expect(search.search(workspace, { pattern: 'needle' })).rejects.toMatchObject({ code: 'E_TOO_LARGE', message: expect.stringContaining('took longer than') });
      const patient = new TextSearch({ engine: 'ripgrep', pageSize: 10, maxFileBytes: 1024 * 1024 });
      expect((await patient.search(workspace, { pattern: 'needle' })).total).toBe(20_000);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
