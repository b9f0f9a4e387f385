import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/test-server.js';

// CI installs ripgrep (.ci/run); a developer machine without it still runs the built-in engine's half.
const hasRipgrep = spawnSync('rg', ['--version']).status === 0;
if (!hasRipgrep && !process.env.CI) console.warn('ripgrep is not on PATH: the ripgrep-engine file tests are not run here (apt-get install ripgrep)');
const engines = hasRipgrep || process.env.CI ? (['ripgrep', 'builtin'] as const) : (['builtin'] as const);

describe.each(engines)('file operations (search engine: %s)', (searchEngine) => {
  let server: TestServer;
  let client: McpClient;
  let root: string;
  const adoptable = tempDir('codebuddy-adoptable-');

  beforeAll(async () => {
    server = await startTestServer({ searchEngine, listPageSize: 5, searchPageSize: 3, maxFileBytes: 64 * 1024, allowedRoots: [adoptable] });
    client = await connectModernHttp(server.url, server.token('acme'));
    root = (await client.call('workspace_create', { name: 'files' })).structured!.root as string;
    mkdirSync(join(root, 'src/lib'), { recursive: true });
    mkdirSync(join(root, 'dist'));
    writeFileSync(join(root, '.gitignore'), 'dist/\n*.log\n');
    writeFileSync(join(root, 'src/lib/.gitignore'), 'generated.ts\n');
    writeFileSync(join(root, 'src/index.ts'), "import { helper } from './lib/helper';\nexport const main = () => helper('TODO: one');\n");
    writeFileSync(join(root, 'src/lib/helper.ts'), 'export function helper(x: string) {\n  // TODO: two\n  return x;\n}\n');
    writeFileSync(join(root, 'src/lib/generated.ts'), '// TODO: ignored by nested .gitignore\n');
    writeFileSync(join(root, 'dist/index.js'), '// TODO: ignored build output\n');
    writeFileSync(join(root, 'debug.log'), 'TODO: ignored log\n');
    writeFileSync(join(root, 'README.md'), '# Project\nTODO: three\ntodo: lower case\n');
    writeFileSync(join(root, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02]));
    writeFileSync(join(root, 'long.txt'), Array.from({ length: 1200 }, (_, i) => `line ${i + 1}`).join('\n') + '\n');
  });

  afterAll(async () => {
    await client?.close();
    await server?.close();
  });

  it('answers a move of a directory into itself through a link with a clear error', async () => {
    mkdirSync(join(root, 'loopdir'), { recursive: true });
    symlinkSync('loopdir', join(root, 'loop-link'));
    const moved = await client.call('file_move', { from: 'loopdir', to: 'loop-link/inner' });
    expect(moved).toMatchObject({ isError: true });
    expect(moved.code).not.toBe('E_INTERNAL');
    rmSync(join(root, 'loop-link'));
    rmSync(join(root, 'loopdir'), { recursive: true });
  });

  it('pages a long file with a cursor and an explicit marker', async () => {
    const first = await client.call('file_read', { path: 'long.txt' });
    expect(first.structured).toMatchObject({ start_line: 1, end_line: 500, total_lines: 1200 });
    const cursor = first.structured!.next_cursor as string;
    expect(first.text.split('\n').at(-1)).toBe(`[lines 1-500 of 1200; more: call again with cursor "${cursor}"]`);
    const second = await client.call('file_read', { path: 'long.txt', cursor });
    expect(second.text.split('\n')[0]).toBe('501\tline 501');
    const ranged = await client.call('file_read', { path: 'long.txt', offset_line: 1199, limit_lines: 5 });
    expect(ranged.text).toBe('1199\tline 1199\n1200\tline 1200');
    expect(ranged.structured!.next_cursor).toBeUndefined();
    expect(await client.call('file_read', { path: 'README.md', cursor })).toMatchObject({ isError: true, code: 'E_INVALID_CURSOR' });
  });

  it('answers binary files with metadata only', async () => {
    const read = await client.call('file_read', { path: 'logo.png' });
    expect(read.structured).toMatchObject({ binary: true, size: 7 });
    expect(read.structured!.content).toBeUndefined();
    expect(read.text).toMatch(/binary file, 7 bytes/);
  });

  it('refuses oversized content and leaves the file as it was', async () => {
    await client.call('file_write', { path: 'keep.txt', content: 'original\n' });
    const big = await client.call('file_write', { path: 'keep.txt', content: 'x'.repeat(65 * 1024) });
    expect(big).toMatchObject({ isError: true, code: 'E_TOO_LARGE' });
    expect(readFileSync(join(root, 'keep.txt'), 'utf8')).toBe('original\n');
  });

  it('applies edits all or nothing, and explains count mismatches', async () => {
    await client.call('file_write', { path: 'edit.txt', content: 'a\nb\na\n' });
    const partial = await client.call('file_edit', { path: 'edit.txt', edits: [{ old: 'b', new: 'B' }, { old: 'zzz', new: 'Z' }] });
    expect(partial).toMatchObject({ isError: true, code: 'E_EDIT_NO_MATCH' });
    expect(readFileSync(join(root, 'edit.txt'), 'utf8')).toBe('a\nb\na\n');
    const ambiguous = await client.call('file_edit', { path: 'edit.txt', edits: [{ old: 'a', new: 'A' }] });
    expect(ambiguous).toMatchObject({ isError: true, code: 'E_EDIT_COUNT_MISMATCH' });
    expect(ambiguous.text).toContain('occurs 2 times');
    const all = await client.call('file_edit', { path: 'edit.txt', edits: [{ old: 'a', new: 'A', count: 2 }] });
    expect(all.structured).toMatchObject({ replacements: 2, first_changed_line: 1 });
    expect(readFileSync(join(root, 'edit.txt'), 'utf8')).toBe('A\nb\nA\n');
  });

  it('matches \\n edits against CRLF files and keeps their line endings', async () => {
    writeFileSync(join(root, 'windows.txt'), 'one\r\ntwo\r\nthree\r\n');
    const edited = await client.call('file_edit', { path: 'windows.txt', edits: [{ old: 'one\ntwo', new: 'uno\ndos' }] });
    expect(edited.isError).toBe(false);
    expect(readFileSync(join(root, 'windows.txt'), 'utf8')).toBe('uno\r\ndos\r\nthree\r\n');
  });

  it('lists the tree honouring nested .gitignore files, paged', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.call('file_list', { depth: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...(page.structured!.entries as { path: string }[]).map((entry) => entry.path));
      cursor = page.structured!.next_cursor as string | undefined;
      if (cursor) expect(page.text).toContain('[5 entries shown; more: call again with cursor');
    } while (cursor);
    expect(seen).toContain('src/lib/helper.ts');
    expect(seen).not.toContain('src/lib/generated.ts');
    expect(seen).not.toContain('dist');
    expect(seen).not.toContain('debug.log');
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('globs by base name anywhere, by path, and below a directory', async () => {
    const names = await client.call('file_glob', { pattern: '*.ts' });
    expect(names.structured!.paths).toEqual(['src/index.ts', 'src/lib/helper.ts']);
    expect((await client.call('file_glob', { pattern: 'src/lib/**' })).structured!.paths).toEqual(['src/lib/.gitignore', 'src/lib/helper.ts']);
    expect((await client.call('file_glob', { pattern: '**/*.ts', path: 'src/lib' })).structured!.paths).toEqual(['src/lib/helper.ts']);
    expect((await client.call('file_glob', { pattern: '*.nothing' })).text).toBe('no files match');
  });

  it('searches contents in path order with context, skipping ignored and binary files, paged', async () => {
    const first = await client.call('file_search', { pattern: 'TODO:' });
    expect(first.structured).toMatchObject({ total: 3, capped: false });
    expect((first.structured!.matches as { path: string; line: number }[]).map((m) => `${m.path}:${m.line}`)).toEqual(['README.md:2', 'src/index.ts:2', 'src/lib/helper.ts:2']);
    const withContext = await client.call('file_search', { pattern: 'TODO: two', context: 1 });
    expect(withContext.text).toBe('src/lib/helper.ts\n1-export function helper(x: string) {\n2:  // TODO: two\n3-  return x;');
    const folded = await client.call('file_search', { pattern: 'todo:', ignore_case: true, glob: '*.md' });
    expect(folded.structured!.total).toBe(2);
    const regex = await client.call('file_search', { pattern: 'helper\\(', regex: true, path: 'src' });
    expect((regex.structured!.matches as { path: string }[]).map((m) => m.path)).toEqual(['src/index.ts', 'src/lib/helper.ts']);
    const paged = await client.call('file_search', { pattern: 'line 1', glob: 'long.txt' });
    expect(paged.structured!.next_cursor).toEqual(expect.any(String));
    const next = await client.call('file_search', { pattern: 'line 1', glob: 'long.txt', cursor: paged.structured!.next_cursor });
    expect((next.structured!.matches as { line: number }[])[0]!.line).toBeGreaterThan((paged.structured!.matches as { line: number }[])[2]!.line);
  });

  it('reports an invalid regex as a bad pattern', async () => {
    expect(await client.call('file_search', { pattern: '(unclosed', regex: true })).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
  });

  it('moves without clobbering unless asked, and deletes directories only recursively', async () => {
    await client.call('file_write', { path: 'm/a.txt', content: 'a' });
    await client.call('file_write', { path: 'm/b.txt', content: 'b' });
    expect(await client.call('file_move', { from: 'm/a.txt', to: 'm/b.txt' })).toMatchObject({ isError: true, code: 'E_CONFLICT' });
    expect((await client.call('file_move', { from: 'm/a.txt', to: 'm/b.txt', overwrite: true })).isError).toBe(false);
    expect(readFileSync(join(root, 'm/b.txt'), 'utf8')).toBe('a');
    expect((await client.call('file_move', { from: 'm', to: 'n/m' })).text).toBe('moved m -> n/m');
    expect(await client.call('file_move', { from: 'n', to: 'n/inner' })).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect(await client.call('file_delete', { path: 'n' })).toMatchObject({ isError: true, code: 'E_CONFLICT' });
    expect((await client.call('file_delete', { path: 'n', recursive: true })).text).toBe('deleted directory n');
    expect(existsSync(join(root, 'n'))).toBe(false);
    expect(await client.call('file_delete', { path: '.' })).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect(await client.call('file_stat', { path: 'nope.txt' })).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
  });

  it('deletes, moves and stats a symlink itself, never what it points to', async () => {
    await client.call('file_write', { path: 'links/target.txt', content: 'kept' });
    symlinkSync('target.txt', join(root, 'links/alias.txt'));
    expect((await client.call('file_stat', { path: 'links/alias.txt' })).structured).toMatchObject({ type: 'symlink' });
    expect((await client.call('file_read', { path: 'links/alias.txt' })).text).toBe('1\tkept');
    expect((await client.call('file_move', { from: 'links/alias.txt', to: 'links/renamed.txt' })).isError).toBe(false);
    expect(lstatSync(join(root, 'links/renamed.txt')).isSymbolicLink()).toBe(true);
    expect((await client.call('file_delete', { path: 'links/renamed.txt' })).text).toBe('deleted symlink links/renamed.txt');
    expect(readFileSync(join(root, 'links/target.txt'), 'utf8')).toBe('kept');
  });

  it('says so when glob or search is pointed at a missing directory', async () => {
    expect(await client.call('file_glob', { pattern: '*.ts', path: 'no/such/dir' })).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
    expect(await client.call('file_glob', { pattern: '*.ts', path: 'README.md' })).toMatchObject({ isError: true, code: 'E_NOT_A_DIRECTORY' });
    expect(await client.call('file_search', { pattern: 'x', path: 'no/such/dir' })).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
    const oneFile = await client.call('file_search', { pattern: 'TODO', path: 'README.md' });
    expect((oneFile.structured!.matches as { path: string }[]).map((m) => m.path)).toEqual(['README.md']);
  });

  it('adopts directories only under allowed roots, never overlapping, and never deletes them', async () => {
    const project = join(adoptable, `project-${searchEngine}`);
    mkdirSync(project);
    writeFileSync(join(project, 'keep.md'), 'mine');
    expect(await client.call('workspace_create', { name: 'outside', path: tempDir() })).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
    expect(await client.call('workspace_create', { name: 'data', path: server.dataDir })).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
    const adopted = await client.call('workspace_create', { name: 'adopted', path: project });
    expect(adopted.structured).toMatchObject({ adopted: true });
    expect(await client.call('workspace_create', { name: 'parent', path: adoptable })).toMatchObject({ isError: true, code: 'E_CONFLICT' });
    expect(await client.call('workspace_create', { name: 'adopted' })).toMatchObject({ isError: true, code: 'E_CONFLICT' });
    expect((await client.call('workspace_delete', { workspace: 'adopted' })).text).toMatch(/its directory was kept/);
    expect(readFileSync(join(project, 'keep.md'), 'utf8')).toBe('mine');
    const scratch = await client.call('workspace_create', { name: 'scratch' });
    expect((await client.call('workspace_delete', { workspace: 'scratch' })).text).toMatch(/its files were removed/);
    expect(existsSync(scratch.structured!.root as string)).toBe(false);
  });
});
