import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_SERVER, RENAME_SERVER } from '../helpers/fake-language-server.js';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { treeSnapshot } from '../helpers/tree-snapshot.js';

/*
 * What a language server's WorkspaceEdit may hold, beyond the text edits pyright sends: file
 * creates, renames and deletes, and hostile URIs. No real server here can be made to send
 * those on cue, so the server is the fake one (test/helpers/fake-language-server.ts) answering
 * rename with the edit the test writes, run through the registry and sandbox like any server;
 * everything else (MCP, the pool, the plan, the atomic apply) is the real path.
 */

const uri = (path: string) => `file:///workspace/${path}`;
const replace = (line: number, from: number, to: number, newText: string) => ({ range: { start: { line, character: from }, end: { line, character: to } }, newText });

describe('refactor_rename applying a language server WorkspaceEdit', () => {
  let server: TestServer;
  let agent: McpClient;
  let root: string;
  const workspace = 'edits';

  beforeAll(async () => {
    server = await startTestServer({ codeServers: [FAKE_SERVER, RENAME_SERVER], codeRequestTimeoutSeconds: 30, codeReadyTimeoutSeconds: 60 });
    agent = await connectModernHttp(server.url, server.token('acme', 'bot', 'agent'));
    root = ((await agent.call('workspace_create', { name: workspace })).structured as { root: string }).root;
  }, 60_000);
  afterAll(async () => {
    await agent?.close();
    await server?.close();
  });

  async function files(contents: Record<string, string>): Promise<void> {
    for (const [path, content] of Object.entries(contents)) expect((await agent.call('file_write', { workspace, path, content })).isError).toBe(false);
  }
  const serverAnswers = (edit: unknown) => files({ 'edit.json': JSON.stringify(edit) });
  const rename = (extra: Record<string, unknown> = {}) => agent.call('refactor_rename', { workspace, path: 'a.ren', line: 1, column: 3, new_name: 'zeta', ...extra });

  it('creates, renames and deletes files and edits them in order, as one plan; the dry run first changes nothing', { timeout: 120_000 }, async () => {
    await files({ 'a.ren': 'alpha one\n', 'b.ren': 'bravo\n', 'd.ren': 'delta\n' });
    await serverAnswers({
      documentChanges: [
        { textDocument: { uri: uri('a.ren'), version: null }, edits: [replace(0, 0, 5, 'omega')] },
        { kind: 'create', uri: uri('new/made.ren') },
        { textDocument: { uri: uri('new/made.ren'), version: null }, edits: [replace(0, 0, 0, 'made\n')] },
        { kind: 'rename', oldUri: uri('b.ren'), newUri: uri('c.ren') },
        { textDocument: { uri: uri('c.ren'), version: null }, edits: [replace(0, 0, 5, 'charlie')] },
        { kind: 'delete', uri: uri('d.ren') },
      ],
    });
    const before = treeSnapshot(root);
    const dry = await rename({ dry_run: true });
    expect(dry.isError, dry.text).toBe(false);
    expect(treeSnapshot(root)).toEqual(before);
    expect(dry.structured).toEqual({
      applied: false,
      summary: 'rename thing → zeta: 3 references in 3 files, 3 file operations (renamer language server)',
      files: [
        { path: 'a.ren', change: 'edited', added: 1, removed: 1 },
        { path: 'c.ren', change: 'moved', from: 'b.ren', added: 1, removed: 1 },
        { path: 'new/made.ren', change: 'created', added: 1, removed: 0 },
        { path: 'd.ren', change: 'deleted', added: 0, removed: 1 },
      ],
      diff: [
        '--- a/a.ren',
        '+++ b/a.ren',
        '@@ -1,1 +1,1 @@',
        '-alpha one',
        '+omega one',
        'rename from b.ren',
        'rename to c.ren',
        '--- a/b.ren',
        '+++ b/c.ren',
        '@@ -1,1 +1,1 @@',
        '-bravo',
        '+charlie',
        '--- /dev/null',
        '+++ b/new/made.ren',
        '@@ -0,0 +1,1 @@',
        '+made',
        '--- a/d.ren',
        '+++ /dev/null',
        '@@ -1,1 +0,0 @@',
        '-delta',
        '',
      ].join('\n'),
    });

    const applied = await rename();
    expect(applied.structured).toMatchObject({ applied: true });
    const after = treeSnapshot(root);
    expect(Object.keys(after).filter((path) => path.endsWith('.ren')).sort()).toEqual(['a.ren', 'c.ren', 'new/made.ren']);
    expect(['a.ren', 'c.ren', 'new/made.ren'].map((path) => readFileSync(join(root, path), 'utf8'))).toEqual(['omega one\n', 'charlie\n', 'made\n']);
  });

  it('keeps a BOM, and a rename over an existing file with overwrite replaces it', { timeout: 120_000 }, async () => {
    writeFileSync(join(root, 'a.ren'), '\uFEFFalpha one\n');
    await files({ 'b.ren': 'bravo\n', 'e.ren': 'echo\n' });
    await serverAnswers({
      documentChanges: [
        { textDocument: { uri: uri('a.ren'), version: null }, edits: [replace(0, 0, 5, 'omega')] },
        { kind: 'rename', oldUri: uri('b.ren'), newUri: uri('e.ren'), options: { overwrite: true } },
      ],
    });
    const answer = await rename();
    expect(answer.structured, answer.text).toMatchObject({
      applied: true,
      files: [
        { path: 'a.ren', change: 'edited' },
        { path: 'e.ren', change: 'edited', added: 1, removed: 1 },
        { path: 'b.ren', change: 'deleted' },
      ],
    });
    expect(readFileSync(join(root, 'a.ren'), 'utf8')).toBe('\uFEFFomega one\n');
    expect(readFileSync(join(root, 'e.ren'), 'utf8')).toBe('bravo\n');
    expect(existsSync(join(root, 'b.ren'))).toBe(false);
  });

  it('refuses edits reaching outside the workspace, by URI, by .. and through a symlink, changing nothing', { timeout: 120_000 }, async () => {
    await files({ 'a.ren': 'alpha one\n' });
    symlinkSync('/etc', join(root, 'etclink'));
    for (const target of ['file:///etc/hostname', 'file:///workspace/../etc/hostname', uri('etclink/hostname')]) {
      await serverAnswers({ changes: { [uri('a.ren')]: [replace(0, 0, 5, 'omega')], [target]: [replace(0, 0, 0, 'owned')] } });
      const before = treeSnapshot(root);
      const answer = await rename();
      expect(answer, target).toMatchObject({ isError: true, code: 'E_PATH_OUTSIDE_WORKSPACE' });
      expect(treeSnapshot(root)).toEqual(before);
    }
  });

  it('refuses an edit that does not fit its file, overlapping edits, and a rename over an existing file', { timeout: 120_000 }, async () => {
    await files({ 'a.ren': 'alpha one\n', 'b.ren': 'bravo\n' });
    // The server's answer (edit.json) changes between calls; the files it names must not.
    const before = treeSnapshot(root, (absolute) => absolute === join(root, 'edit.json'));
    await serverAnswers({ changes: { [uri('a.ren')]: [replace(7, 0, 5, 'omega')] } });
    expect((await rename()).text).toBe("E_CONFLICT: the renamer server's edit does not fit a.ren (a position outside it), even given the file as it is; nothing was changed");
    await serverAnswers({ changes: { [uri('a.ren')]: [replace(0, 0, 5, 'omega'), replace(0, 3, 7, 'x')] } });
    expect((await rename()).text).toBe("E_CONFLICT: the language server's edits of a.ren overlap; nothing was changed");
    await serverAnswers({ documentChanges: [{ kind: 'rename', oldUri: uri('a.ren'), newUri: uri('b.ren') }] });
    expect((await rename()).text).toBe('E_CONFLICT: the language server would rename a.ren to b.ren, which exists; nothing was changed');
    expect(treeSnapshot(root, (absolute) => absolute === join(root, 'edit.json'))).toEqual(before);
  });

  it('refuses a position the server says cannot be renamed, and a server that does not rename', { timeout: 120_000 }, async () => {
    await files({ 'a.ren': 'alpha one\n', 'x.fake': 'x\n' });
    expect((await rename({ column: 1 })).text).toBe('E_INVALID_ARGUMENT: cannot rename at a.ren:1:1: the renamer server says there is nothing it can rename there');
    const unsupported = await agent.call('refactor_rename', { workspace, path: 'x.fake', line: 1, column: 1, new_name: 'y' });
    expect(unsupported.text).toBe('E_UNSUPPORTED: the fake language server does not rename');
  });
});
