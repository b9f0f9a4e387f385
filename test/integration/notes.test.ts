/**
 * Notes over MCP (the v2 client, 2026-07-28, and the v1 client where it says so) against a
 * real server and a real SQLite file: the lifecycle of a note with its links, tasks and
 * artifacts, search ranking on a small corpus, optimistic concurrency, hostile input, links
 * following file moves, and what a deleted workspace takes along.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectLegacyHttp, connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { succeed as ok } from '../helpers/tool-calls.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

interface Task {
  id: string;
  note: string;
  line: number;
  text: string;
  status: string;
  assignee: string | null;
  due: string | null;
}

const blobFile = (dataDir: string, sha256: string) => join(dataDir, 'blobs', 'sha256', sha256.slice(0, 2), sha256.slice(2));
const blobFiles = (dataDir: string) => readdirSync(join(dataDir, 'blobs', 'sha256'), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name);

describe('notes', () => {
  let server: TestServer;
  let agent: McpClient;
  let root: string;

  beforeAll(async () => {
    server = await startTestServer({ noteMaxBytes: 64 * 1024, artifactMaxBytes: 4096 });
    agent = await connectModernHttp(server.url, server.token('acme', 'ada'));
    root = (await ok(agent, 'workspace_create', { name: 'main' })).root as string;
    await ok(agent, 'file_write', { path: 'src/parser.ts', content: 'export class Parser { parse() {} }\n' });
  });

  afterAll(async () => {
    await agent?.close();
    await server?.close();
  });

  it('lives a whole life: create, link to a file, a symbol and a note, tasks both ways, artifacts, delete', async () => {
    const body = ['# Parser plan', '', '- [ ] write the tokenizer @ana due:2026-03-01', '- [ ] handle quotes', '- [x] pick a grammar', ''].join('\n');
    const plan = await ok(agent, 'note_create', { title: 'Parser plan', body, tags: ['parser', 'plan'] });
    expect(plan).toMatchObject({ id: expect.stringMatching(/^note_/), title: 'Parser plan', tags: ['parser', 'plan'], author: 'ada', version: 1 });
    const id = plan.id as string;
    const design = await ok(agent, 'note_create', { title: 'Grammar design', body: 'LL(1), see the plan.' });

    // Tasks from the checkboxes.
    const tasks = (await ok(agent, 'task_list', {})).tasks as Task[];
    expect(tasks.map(({ note, line, text, status, assignee, due }) => ({ note, line, text, status, assignee, due }))).toEqual([
      { note: id, line: 3, text: 'write the tokenizer @ana due:2026-03-01', status: 'open', assignee: 'ana', due: '2026-03-01' },
      { note: id, line: 4, text: 'handle quotes', status: 'open', assignee: null, due: null },
      { note: id, line: 5, text: 'pick a grammar', status: 'done', assignee: null, due: null },
    ]);
    expect(((await ok(agent, 'task_list', { assignee: 'ana' })).tasks as Task[]).map((task) => task.id)).toEqual([tasks[0]!.id]);
    expect(((await ok(agent, 'task_list', { status: 'done' })).tasks as Task[]).map((task) => task.id)).toEqual([tasks[2]!.id]);

    // Links: a file, a symbol in it, another note; both directions.
    const toFile = await ok(agent, 'note_link', { from: id, type: 'documents', path: './src//parser.ts' });
    expect(toFile).toMatchObject({ type: 'documents', from: id, to: { kind: 'file', path: 'src/parser.ts' }, created: true });
    expect(await ok(agent, 'note_link', { from: id, type: 'documents', path: 'src/parser.ts' })).toMatchObject({ id: toFile.id, created: false });
    await ok(agent, 'note_link', { from: id, type: 'relates', path: 'src/parser.ts', symbol: 'Parser.parse' });
    const toNote = await ok(agent, 'note_link', { from: design.id as string, type: 'depends_on', note: id });
    expect(await agent.call('note_link', { from: id, type: 'relates', note: 'note_missing' })).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
    expect(await agent.call('note_link', { from: id, type: 'relates', path: '../outside.txt' })).toMatchObject({ isError: true, code: 'E_PATH_OUTSIDE_WORKSPACE' });
    expect(await agent.call('note_link', { from: id, type: 'Bad Type', path: 'src/parser.ts' })).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });

    const got = await agent.call('note_get', { id });
    expect(got.structured).toMatchObject({
      body,
      links: [
        { type: 'documents', to: { kind: 'file', path: 'src/parser.ts' } },
        { type: 'relates', to: { kind: 'symbol', path: 'src/parser.ts', symbol: 'Parser.parse' } },
      ],
      backlinks: [{ id: toNote.id, from: design.id, type: 'depends_on' }],
      truncated: false,
    });
    expect(got.text).toContain(`${toFile.id} ${id} -documents-> file src/parser.ts`);
    expect(got.text).toContain(`${tasks[1]!.id} [ ] ${id}:4 handle quotes`);
    const linkedToFile = (await ok(agent, 'note_list', { linked_to: 'src/parser.ts' })).notes as { id: string }[];
    expect(linkedToFile.map((note) => note.id)).toEqual([id]);
    expect(((await ok(agent, 'note_list', { linked_to: id })).notes as { id: string }[]).map((note) => note.id)).toEqual([design.id]);
    expect(((await ok(agent, 'note_list', { tag: 'plan' })).notes as { id: string }[]).map((note) => note.id)).toEqual([id]);

    // A task update rewrites its checkbox line; the note's version moves on.
    const done = await ok(agent, 'task_update', { id: tasks[1]!.id, status: 'done', assignee: 'bo', due: '2026-04-01' });
    expect(done).toMatchObject({ task: { id: tasks[1]!.id, status: 'done', text: 'handle quotes @bo due:2026-04-01', assignee: 'bo' }, note: { version: 2 } });
    expect((await ok(agent, 'note_get', { id })).body).toBe(body.replace('- [ ] handle quotes', '- [x] handle quotes @bo due:2026-04-01'));

    // Editing the body: moved lines keep their ids, so does a task reworded where it stood; a new line is a new task.
    const edited = ['# Parser plan', 'Notes first.', '- [ ] write the tokenizer and lexer @ana due:2026-03-01', '- [x] pick a grammar', '- [x] handle quotes @bo due:2026-04-01', '- [ ] fuzz it'].join('\n');
    await ok(agent, 'note_update', { id, version: 2, body: edited });
    const after = (await ok(agent, 'task_list', {})).tasks as Task[];
    expect(after.map((task) => [task.id, task.line, task.status, task.text])).toEqual([
      [tasks[0]!.id, 3, 'open', 'write the tokenizer and lexer @ana due:2026-03-01'],
      [tasks[2]!.id, 4, 'done', 'pick a grammar'],
      [tasks[1]!.id, 5, 'done', 'handle quotes @bo due:2026-04-01'],
      [expect.not.stringMatching(new RegExp(tasks.map((task) => task.id).join('|'))), 6, 'open', 'fuzz it'],
    ]);

    // Artifacts: text and binary blobs, stored by content under the data directory; a workspace file by reference.
    const text = await ok(agent, 'artifact_add', { note: id, name: 'trace.log', content: 'token 1\ntoken 2\n' });
    expect(text).toMatchObject({ kind: 'blob', name: 'trace.log', media_type: 'text/plain', size: 16 });
    expect(readFileSync(blobFile(server.dataDir, text.sha256 as string), 'utf8')).toBe('token 1\ntoken 2\n');
    const bytes = Buffer.from([0, 1, 2, 255, 254]);
    const binary = await ok(agent, 'artifact_add', { note: id, name: 'dump.bin', content_base64: bytes.toString('base64') });
    expect(binary).toMatchObject({ media_type: 'application/octet-stream', size: 5 });
    expect(await ok(agent, 'artifact_get', { id: text.id as string })).toMatchObject({ content: 'token 1\ntoken 2\n' });
    expect(await ok(agent, 'artifact_get', { id: binary.id as string })).toMatchObject({ content_base64: bytes.toString('base64'), offset: 0 });
    const fileArtifact = await ok(agent, 'artifact_add', { note: id, path: 'src/parser.ts' });
    expect(fileArtifact).toMatchObject({ kind: 'file', name: 'parser.ts', path: 'src/parser.ts', size: 35 });
    expect(await ok(agent, 'artifact_get', { id: fileArtifact.id as string })).toMatchObject({ current_sha256: fileArtifact.sha256 });
    writeFileSync(join(root, 'src/parser.ts'), 'changed\n');
    const changed = await agent.call('artifact_get', { id: fileArtifact.id as string });
    expect(changed.text).toContain('the file changed (sha256 now ');
    expect(await agent.call('artifact_add', { note: id, path: 'src' })).toMatchObject({ isError: true, code: 'E_NOT_A_FILE' });

    // Delete: links both ways, tasks and artifacts go with it; the blobs too, as nothing else names them.
    const deleted = await ok(agent, 'note_delete', { id });
    expect(deleted).toEqual({ id, links: 3, tasks: 4, artifacts: 3 });
    expect(await agent.call('note_get', { id })).toMatchObject({ isError: true, code: 'E_NOT_FOUND', text: `E_NOT_FOUND: note ${id} not found` });
    expect((await ok(agent, 'task_list', {})).tasks).toEqual([]);
    expect((await ok(agent, 'note_get', { id: design.id as string })).links).toEqual([]);
    expect((await ok(agent, 'note_list', { linked_to: 'src/parser.ts' })).notes).toEqual([]);
    expect(await agent.call('artifact_get', { id: text.id as string })).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
    expect(existsSync(blobFile(server.dataDir, text.sha256 as string))).toBe(false);
    expect(existsSync(blobFile(server.dataDir, binary.sha256 as string))).toBe(false);
    await ok(agent, 'note_delete', { id: design.id as string });
  });

  describe('search', () => {
    const ids: Record<string, string> = {};
    beforeAll(async () => {
      await ok(agent, 'workspace_create', { name: 'corpus' });
      const corpus: [string, string, string][] = [
        ['title', 'Tokenizer design', 'How we split source text into words.'],
        ['once', 'Parser', 'The parser calls the tokenizer once per file and builds a tree.'],
        ['thrice', 'Scratch', 'tokenizer tokenizer tokenizer: three mentions in a short body.'],
        ['release', 'Release checklist', 'Tag, build, publish, announce.'],
        ['meeting', 'Meeting notes', 'Agreed on the release date; nothing else.'],
        ['cafe', 'Café naïve 日本語', 'Unicode words: résumé, 東京.'],
        ['other1', 'Budget', 'Numbers for next quarter.'],
        ['other2', 'Hiring', 'Two roles open.'],
      ];
      for (const [key, title, body] of corpus) ids[key] = (await ok(agent, 'note_create', { title, body, workspace: 'corpus' })).id as string;
      // The same word in another workspace is never found from this one.
      await ok(agent, 'note_create', { title: 'Tokenizer elsewhere', body: 'tokenizer', workspace: 'main' });
    });

    const search = async (query: string) => ((await ok(agent, 'note_search', { query, workspace: 'corpus' })).hits as { id: string; snippet: string }[]).map((hit) => hit.id);

    it('ranks by bm25 with the title weighted over the body', async () => {
      expect(await search('tokenizer')).toEqual([ids.title, ids.thrice, ids.once]);
      const answer = await agent.call('note_search', { query: 'tokenizer', workspace: 'corpus' });
      expect(answer.text.split('\n')[0]).toBe(`${ids.title} Tokenizer design`);
      expect(answer.text).toContain('The parser calls the **tokenizer** once per file');
    });

    it('takes phrases, prefixes, column filters, exclusions and OR', async () => {
      expect(await search('"calls the tokenizer"')).toEqual([ids.once]);
      expect(await search('"tokenizer calls"')).toEqual([]);
      expect((await search('tokeniz*')).sort()).toEqual([ids.title, ids.once, ids.thrice].sort());
      expect(await search('title:tokenizer')).toEqual([ids.title]);
      expect(await search('tokenizer -parser')).toEqual([ids.title, ids.thrice]);
      expect((await search('checklist OR meeting')).sort()).toEqual([ids.release, ids.meeting].sort());
      expect(await search('cafe naive')).toEqual([ids.cafe]);
      expect(await search('日本語')).toEqual([ids.cafe]);
      expect(await search('東京')).toEqual([ids.cafe]);
    });

    it('pages with a cursor bound to its query', async () => {
      await ok(agent, 'workspace_create', { name: 'many' });
      for (let i = 0; i < 25; i++) await ok(agent, 'note_create', { title: `Entry ${i}`, body: `pagingword number ${i}`, workspace: 'many' });
      const first = await agent.call('note_search', { query: 'pagingword', workspace: 'many' });
      expect((first.structured!.hits as unknown[]).length).toBe(20);
      expect(first.text).toMatch(/\[20 notes shown; more: call again with cursor "[^"]+"\]$/);
      const second = await ok(agent, 'note_search', { query: 'pagingword', workspace: 'many', cursor: first.structured!.next_cursor });
      expect((second.hits as unknown[]).length).toBe(5);
      expect(second.next_cursor).toBeUndefined();
      const all = [...(first.structured!.hits as { id: string }[]), ...(second.hits as { id: string }[])].map((hit) => hit.id);
      expect(new Set(all).size).toBe(25);
      expect(await agent.call('note_search', { query: 'number', workspace: 'many', cursor: first.structured!.next_cursor })).toMatchObject({ isError: true, code: 'E_INVALID_CURSOR' });
    });

    it.each([
      ['an unbalanced quote', '"tokenizer'],
      ['a NEAR group with a quote', 'NEAR("a b'],
      ['only excluded terms', '-tokenizer'],
      ['a dangling OR', 'tokenizer OR'],
      ['too many terms', Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ')],
      ['a query over 1,000 characters', 'a'.repeat(1001)],
      ['an empty query', ''],
    ])('refuses %s with E_INVALID_ARGUMENT, never a 500', async (_label, query) => {
      const answer = await agent.call('note_search', { query, workspace: 'corpus' });
      expect(answer).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
      expect(answer.meta?.['codebuddy/error']).toMatchObject({ field: 'query' });
    });

    it.each(['NEAR(tokenizer parser)', 'scope:tokenizer', 'notes_fts:tokenizer', 'tokenizer^', '{scope} : tokenizer', "tokenizer'; DROP TABLE notes; --", '(tokenizer', 'tokenizer AND', '*tokenizer'])(
      'reads FTS5 syntax %s as words: an answer, never an error',
      async (query) => {
        const answer = await agent.call('note_search', { query, workspace: 'corpus' });
        expect(answer.isError, answer.text).toBe(false);
      },
    );
  });

  it('lets one of two updates from the same version win; the other gets E_CONFLICT', async () => {
    const note = await ok(agent, 'note_create', { workspace: 'main', title: 'Race', body: 'v1' });
    const other = await connectLegacyHttp(server.url, server.token('acme', 'bea'));
    const answers = await Promise.all([agent.call('note_update', { workspace: 'main', id: note.id, version: 1, body: 'from ada' }), other.call('note_update', { workspace: 'main', id: note.id, version: 1, body: 'from bea' })]);
    await other.close();
    const won = answers.filter((answer) => !answer.isError);
    const lost = answers.filter((answer) => answer.isError);
    expect(won).toHaveLength(1);
    expect(lost).toMatchObject([{ code: 'E_CONFLICT' }]);
    expect(lost[0]!.meta?.['codebuddy/error']).toMatchObject({ field: 'version', current_version: 2 });
    expect(won[0]!.structured).toMatchObject({ version: 2 });
    expect((await ok(agent, 'note_get', { workspace: 'main', id: note.id as string })).body).toBe(answers[0]!.isError ? 'from bea' : 'from ada');
    expect(await agent.call('note_update', { workspace: 'main', id: note.id, version: 1, title: 'late' })).toMatchObject({ isError: true, code: 'E_CONFLICT' });
  });

  it('refuses hostile notes whole, and keeps unicode exactly', async () => {
    const before = server.app.db.prepare('SELECT count(*) FROM notes').pluck().get() as number;
    const huge = await agent.call('note_create', { workspace: 'main', title: 'Huge', body: 'x'.repeat(64 * 1024 + 1) });
    expect(huge).toMatchObject({ isError: true, code: 'E_TOO_LARGE' });
    expect(huge.meta?.['codebuddy/error']).toMatchObject({ field: 'body' });
    expect(await agent.call('note_create', { workspace: 'main', title: 'nul', body: 'a\u0000b' })).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect(await agent.call('note_create', { workspace: 'main', title: 'a\u0000b' })).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect(await agent.call('note_create', { workspace: 'main', title: 'two\nlines' })).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect(await agent.call('note_create', { workspace: 'main', title: 'half', body: 'lone \ud800 surrogate' })).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect(await agent.call('note_create', { workspace: 'main', title: 'tags', tags: ['has space'] })).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect(server.app.db.prepare('SELECT count(*) FROM notes').pluck().get()).toBe(before);

    const body = 'Ünïcödé 🙂 日本語 — RTL \u202e text\r\nCRLF line\n- [ ] émoji task 🙂 @ana';
    const note = await ok(agent, 'note_create', { workspace: 'main', title: 'Ünïcödé 🙂', body });
    expect((await ok(agent, 'note_get', { workspace: 'main', id: note.id as string })).body).toBe(body);
    expect(((await ok(agent, 'task_list', { workspace: 'main', assignee: 'ana' })).tasks as Task[]).map((task) => task.text)).toContain('émoji task 🙂 @ana');
    // An update that would grow the body past the limit changes nothing.
    expect(await agent.call('note_update', { workspace: 'main', id: note.id, version: 1, body: 'y'.repeat(64 * 1024 + 1) })).toMatchObject({ isError: true, code: 'E_TOO_LARGE' });
    expect((await ok(agent, 'note_get', { workspace: 'main', id: note.id as string })).version).toBe(1);
  });

  it('refuses a blob over the size limit, leaving no file behind', async () => {
    const note = await ok(agent, 'note_create', { workspace: 'main', title: 'Blobs' });
    const blobsBefore = blobFiles(server.dataDir);
    const over = await agent.call('artifact_add', { workspace: 'main', note: note.id, name: 'big.txt', content: 'z'.repeat(4097) });
    expect(over).toMatchObject({ isError: true, code: 'E_TOO_LARGE' });
    expect(over.meta?.['codebuddy/error']).toMatchObject({ field: 'content', limit: 4096 });
    const overBase64 = await agent.call('artifact_add', { workspace: 'main', note: note.id, content_base64: Buffer.alloc(4097, 7).toString('base64') });
    expect(overBase64).toMatchObject({ isError: true, code: 'E_TOO_LARGE' });
    expect(await agent.call('artifact_add', { workspace: 'main', note: note.id, content_base64: 'not base64!' })).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect(await agent.call('artifact_add', { workspace: 'main', note: note.id, content: 'a', path: 'src/parser.ts' })).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect(blobFiles(server.dataDir)).toEqual(blobsBefore);
    expect(readdirSync(join(server.dataDir, 'blobs', 'tmp'))).toEqual([]);
    expect((await ok(agent, 'note_get', { workspace: 'main', id: note.id as string })).artifacts).toEqual([]);
    // At the limit exactly: stored.
    const full = await ok(agent, 'artifact_add', { workspace: 'main', note: note.id, name: 'full.txt', content: 'z'.repeat(4096) });
    expect(readFileSync(blobFile(server.dataDir, full.sha256 as string)).length).toBe(4096);
  });

  it('is served over REST from the same operations', async () => {
    const token = server.token('acme', 'rest-user');
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-correlation-id': 'rest-note-1' };
    const created = await fetch(new URL('/api/notes', server.url), { method: 'POST', headers, body: JSON.stringify({ workspace: 'main', title: 'From REST', body: '- [ ] a REST task' }) });
    expect(created.status).toBe(200);
    const note = (await created.json()) as { id: string; version: number };
    expect(note).toMatchObject({ id: expect.stringMatching(/^note_/), version: 1 });
    expect(server.app.db.prepare("SELECT correlation_id FROM actions WHERE operation = 'note_create' AND id = ?").pluck().get(created.headers.get('x-action-id'))).toBe('rest-note-1');
    const got = await fetch(new URL(`/api/notes/${note.id}?workspace=main`, server.url), { headers: { authorization: `Bearer ${token}` } });
    expect(await got.json()).toMatchObject({ id: note.id, title: 'From REST', body: '- [ ] a REST task', tasks: [{ text: 'a REST task', status: 'open' }] });
    const stale = await fetch(new URL(`/api/notes/${note.id}`, server.url), { method: 'POST', headers, body: JSON.stringify({ workspace: 'main', version: 7, title: 'x' }) });
    expect(stale.status).toBe(409);
    expect(await stale.json()).toMatchObject({ error: { code: 'E_CONFLICT' } });
    const searched = await fetch(new URL('/api/notes/search?workspace=main&query=%22REST%20task', server.url), { headers: { authorization: `Bearer ${token}` } });
    expect(searched.status).toBe(400);
    expect(await searched.json()).toMatchObject({ error: { code: 'E_INVALID_ARGUMENT' } });
  });

  describe('links follow moved files', () => {
    it('when the file service announces a move (published on app.events by this test)', async () => {
      // This drives the subscriber alone: the test publishes the event the file service publishes on a file_move.
      await ok(agent, 'workspace_create', { name: 'moves' });
      const workspace = server.app.workspaces.resolve({ tenantId: 'acme', userId: 'ada', role: 'agent' }, 'moves');
      const note = await ok(agent, 'note_create', { title: 'Mover', workspace: 'moves' });
      for (const [path, symbol] of [['lib/a.ts', undefined], ['lib/deep/b.ts', 'B.run'], ['libx/c.ts', undefined], ['lib', undefined]] as const) {
        await ok(agent, 'note_link', { from: note.id, type: 'relates', path, ...(symbol ? { symbol } : {}), workspace: 'moves' });
      }
      server.app.events.publish('files.moved', { tenantId: 'acme', workspaceId: workspace.id, from: 'lib', to: 'src/lib' });
      // Another tenant's identical event changes nothing here.
      server.app.events.publish('files.moved', { tenantId: 'globex', workspaceId: workspace.id, from: 'src', to: 'gone' });
      const links = (await ok(agent, 'note_get', { id: note.id, workspace: 'moves' })).links as { to: { path: string; symbol?: string } }[];
      expect(links.map((link) => link.to)).toEqual([
        { kind: 'file', path: 'src/lib/a.ts' },
        { kind: 'symbol', path: 'src/lib/deep/b.ts', symbol: 'B.run' },
        { kind: 'file', path: 'libx/c.ts' },
        { kind: 'file', path: 'src/lib' },
      ]);
    });

    it('end to end through file_move over MCP (needs the file service publisher, merged from main into this branch)', async () => {
      await ok(agent, 'file_write', { path: 'docs/guide.md', content: '# guide\n', workspace: 'moves' });
      const note = await ok(agent, 'note_create', { title: 'Guide notes', workspace: 'moves' });
      await ok(agent, 'note_link', { from: note.id, type: 'documents', path: 'docs/guide.md', workspace: 'moves' });
      await ok(agent, 'file_move', { from: 'docs/guide.md', to: 'handbook/guide.md', workspace: 'moves' });
      expect(((await ok(agent, 'note_get', { id: note.id, workspace: 'moves' })).links as { to: unknown }[]).map((link) => link.to)).toEqual([{ kind: 'file', path: 'handbook/guide.md' }]);
      expect(((await ok(agent, 'note_list', { linked_to: 'handbook/guide.md', workspace: 'moves' })).notes as { id: string }[]).map((n) => n.id)).toEqual([note.id]);
    });
  });

  describe('deleting a workspace', () => {
    const rows = (workspaceId: string) =>
      Object.fromEntries(
        ['notes', 'note_tags', 'note_links', 'note_tasks', 'note_artifacts'].map((table) => [table, server.app.db.prepare(`SELECT count(*) FROM ${table} WHERE workspace_id = ?`).pluck().get(workspaceId)]),
      );

    async function filled(name: string, shared: string, own: string): Promise<string> {
      const id = (await ok(agent, 'workspace_create', { name })).id as string;
      const note = await ok(agent, 'note_create', { title: `In ${name}`, body: '- [ ] a task', tags: ['t'], workspace: name });
      const other = await ok(agent, 'note_create', { title: 'Other', workspace: name });
      await ok(agent, 'note_link', { from: other.id, type: 'relates', note: note.id, workspace: name });
      await ok(agent, 'artifact_add', { note: note.id, content: shared, workspace: name });
      await ok(agent, 'artifact_add', { note: note.id, content: own, workspace: name });
      return id;
    }

    it('takes its notes, links, tasks, artifacts and the blobs no one else names (through workspace_delete, whose publisher is merged from main)', async () => {
      const doomed = await filled('doomed', 'shared content', 'doomed only');
      const kept = await filled('kept', 'shared content', 'kept only');
      const sha = (text: string) => server.app.db.prepare("SELECT sha256 FROM note_artifacts WHERE workspace_id IN (?, ?) AND size = ? AND kind = 'blob'").pluck().get(doomed, kept, Buffer.byteLength(text)) as string;
      const [shared, doomedOnly, keptOnly] = [sha('shared content'), sha('doomed only'), sha('kept only')];
      expect(rows(doomed)).toEqual({ notes: 2, note_tags: 1, note_links: 1, note_tasks: 1, note_artifacts: 2 });

      await ok(agent, 'workspace_delete', { workspace: 'doomed' });
      expect(rows(doomed)).toEqual({ notes: 0, note_tags: 0, note_links: 0, note_tasks: 0, note_artifacts: 0 });
      expect(server.app.db.prepare('SELECT count(*) FROM notes_fts WHERE notes_fts MATCH ?').pluck().get('title : doomed')).toBe(0);
      expect(server.app.db.prepare('SELECT count(*) FROM note_scopes WHERE workspace_id = ?').pluck().get(doomed)).toBe(0);
      expect(existsSync(blobFile(server.dataDir, doomedOnly))).toBe(false);
      expect(existsSync(blobFile(server.dataDir, shared))).toBe(true);
      expect(existsSync(blobFile(server.dataDir, keptOnly))).toBe(true);
      expect(rows(kept)).toEqual({ notes: 2, note_tags: 1, note_links: 1, note_tasks: 1, note_artifacts: 2 });
    });

    it('when the event arrives (published on app.events by this test)', async () => {
      // The subscriber alone, as workspace_delete's publisher would call it.
      const id = await filled('evented', 'evented shared', 'evented only');
      server.app.events.publish('workspace.deleted', { tenantId: 'globex', workspaceId: id });
      expect(rows(id)).toMatchObject({ notes: 2 });
      server.app.events.publish('workspace.deleted', { tenantId: 'acme', workspaceId: id });
      expect(rows(id)).toEqual({ notes: 0, note_tags: 0, note_links: 0, note_tasks: 0, note_artifacts: 0 });
    });
  });
});

describe('large artifacts', () => {
  let server: TestServer;
  let agent: McpClient;

  beforeAll(async () => {
    server = await startTestServer({ artifactMaxBytes: 512 * 1024 });
    agent = await connectModernHttp(server.url, server.token('acme', 'ada'));
    await ok(agent, 'workspace_create', { name: 'main' });
  });

  afterAll(async () => {
    await agent?.close();
    await server?.close();
  });

  it('are read back in base64 chunks with a cursor bound to the artifact', async () => {
    const note = await ok(agent, 'note_create', { title: 'Dump' });
    const bytes = Buffer.alloc(300 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) % 256;
    const artifact = await ok(agent, 'artifact_add', { note: note.id, name: 'dump.bin', content_base64: bytes.toString('base64') });
    const first = await agent.call('artifact_get', { id: artifact.id });
    expect(first.structured).toMatchObject({ offset: 0, size: bytes.length });
    expect(first.text).toContain(`[bytes 0-${192 * 1024} of ${bytes.length}; more: call again with cursor "`);
    const second = await ok(agent, 'artifact_get', { id: artifact.id, cursor: first.structured!.next_cursor });
    expect(second).toMatchObject({ offset: 192 * 1024 });
    expect(second.next_cursor).toBeUndefined();
    const joined = Buffer.concat([Buffer.from(first.structured!.content_base64 as string, 'base64'), Buffer.from(second.content_base64 as string, 'base64')]);
    expect(joined.equals(bytes)).toBe(true);
    const other = await ok(agent, 'artifact_add', { note: note.id, content: 'small' });
    expect(await agent.call('artifact_get', { id: other.id, cursor: first.structured!.next_cursor })).toMatchObject({ isError: true, code: 'E_INVALID_CURSOR' });
  });
});
