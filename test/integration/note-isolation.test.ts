/**
 * Notes across the tenant line and the workspace line: ids of another tenant's (or another
 * workspace's) notes, links, tasks and artifacts answer exactly like ids that never existed,
 * search finds nothing of theirs, and blobs shared by equal content outlive one owner.
 * (Calls naming another tenant's workspace are in the matrix of tenant-isolation.test.ts.)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectModernHttp, type McpClient, type ToolAnswer } from '../helpers/mcp-clients.js';
import { succeed as ok } from '../helpers/tool-calls.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** An error answer with the id it names replaced, to compare with the answer for a made-up id. */
const shape = (answer: ToolAnswer, id: string) => ({
  isError: answer.isError,
  code: answer.code,
  text: answer.text.split(id).join('<id>'),
  error: JSON.stringify(answer.meta?.['codebuddy/error'] ?? null).split(id).join('<id>'),
});

describe('note isolation', () => {
  let server: TestServer;
  let acme: McpClient;
  let globex: McpClient;
  const acmeIds = { note: '', link: '', task: '', artifact: '', sha256: '' };
  let globexNote: string;
  const secret = 'Acme secret: the launch code is zanzibar.';

  beforeAll(async () => {
    server = await startTestServer();
    acme = await connectModernHttp(server.url, server.token('acme', 'alice'));
    globex = await connectModernHttp(server.url, server.token('globex', 'bob'));
    await ok(acme, 'workspace_create', { name: 'shared-name' });
    await ok(acme, 'workspace_create', { name: 'second' });
    await ok(globex, 'workspace_create', { name: 'shared-name' });
    const w = { workspace: 'shared-name' };
    acmeIds.note = (await ok(acme, 'note_create', { ...w, title: 'Launch', body: `${secret}\n- [ ] launch @alice`, tags: ['secret'] })).id as string;
    const other = (await ok(acme, 'note_create', { ...w, title: 'Other' })).id as string;
    acmeIds.link = (await ok(acme, 'note_link', { ...w, from: other, type: 'relates', note: acmeIds.note })).id as string;
    acmeIds.task = ((await ok(acme, 'task_list', w)).tasks as { id: string }[])[0]!.id;
    const artifact = await ok(acme, 'artifact_add', { ...w, note: acmeIds.note, name: 'codes.txt', content: 'shared bytes\n' });
    acmeIds.artifact = artifact.id as string;
    acmeIds.sha256 = artifact.sha256 as string;
    globexNote = (await ok(globex, 'note_create', { ...w, title: 'Globex note', body: 'nothing to see' })).id as string;
  });

  afterAll(async () => {
    await Promise.all([acme?.close(), globex?.close()]);
    await server?.close();
  });

  const made = { note: 'note_06h0000000000000000000000', link: 'lnk_06h0000000000000000000000', task: 'task_06h0000000000000000000000', artifact: 'art_06h0000000000000000000000' };
  const calls: { label: string; kind: keyof typeof made; call: (id: string) => [string, Record<string, unknown>] }[] = [
    { label: 'note_get', kind: 'note', call: (id) => ['note_get', { id }] },
    { label: 'note_update', kind: 'note', call: (id) => ['note_update', { id, version: 1, body: 'overwritten' }] },
    { label: 'note_delete', kind: 'note', call: (id) => ['note_delete', { id }] },
    { label: 'note_link from it', kind: 'note', call: (id) => ['note_link', { from: id, type: 'relates', path: 'x.ts' }] },
    { label: 'note_link to it', kind: 'note', call: (id) => ['note_link', { from: globexNote, type: 'relates', note: id }] },
    { label: 'artifact_add to it', kind: 'note', call: (id) => ['artifact_add', { note: id, content: 'planted' }] },
    { label: 'note_unlink', kind: 'link', call: (id) => ['note_unlink', { id }] },
    { label: 'task_update', kind: 'task', call: (id) => ['task_update', { id, status: 'done' }] },
    { label: 'artifact_get', kind: 'artifact', call: (id) => ['artifact_get', { id }] },
  ];

  describe.each([
    { label: "globex, in its own workspace of the same name, with acme's ids", caller: () => globex, workspace: 'shared-name' },
    { label: "acme, in another of its workspaces, with the first one's ids", caller: () => acme, workspace: 'second' },
  ])('$label', ({ caller, workspace }) => {
    it.each(calls)('$label answers exactly as for an id that never existed', async ({ kind, call }) => {
      const [tool, args] = call(acmeIds[kind]);
      // note_link to it starts from a note of the caller's own: globex's, or one made in acme's second workspace.
      const from = caller() === acme && tool === 'note_link' && 'note' in args ? { from: (await ok(acme, 'note_create', { workspace, title: 'from here' })).id } : {};
      const crossed = await caller().call(tool, { ...args, ...from, workspace });
      const [, missingArgs] = call(made[kind]);
      const missing = await caller().call(tool, { ...missingArgs, ...from, workspace });
      expect(missing).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
      expect(shape(crossed, acmeIds[kind])).toEqual(shape(missing, made[kind]));
    });

    it('finds nothing of theirs by search, list, tag, task listing or links', async () => {
      const client = caller();
      for (const query of ['zanzibar', 'launch', 'secret', 'title:Launch', 'zanzi*', '"launch code"']) {
        expect((await ok(client, 'note_search', { query, workspace })).hits, query).toEqual([]);
      }
      expect(((await ok(client, 'note_list', { workspace })).notes as { id: string }[]).map((note) => note.id)).not.toContain(acmeIds.note);
      expect((await ok(client, 'note_list', { tag: 'secret', workspace })).notes).toEqual([]);
      expect((await ok(client, 'note_list', { linked_to: acmeIds.note, workspace })).notes).toEqual([]);
      expect((await ok(client, 'task_list', { assignee: 'alice', workspace })).tasks).toEqual([]);
    });
  });

  it("leaves acme's notes exactly as they were", async () => {
    const note = await ok(acme, 'note_get', { id: acmeIds.note, workspace: 'shared-name' });
    expect(note).toMatchObject({ version: 1, body: `${secret}\n- [ ] launch @alice`, backlinks: [{ id: acmeIds.link }], tasks: [{ id: acmeIds.task, status: 'open' }], artifacts: [{ id: acmeIds.artifact }] });
    expect((await ok(acme, 'note_search', { query: 'zanzibar', workspace: 'shared-name' })).hits).toMatchObject([{ id: acmeIds.note }]);
  });

  it("is refused over REST as over MCP: another tenant's note id is not found", async () => {
    const response = await fetch(new URL(`/api/notes/${acmeIds.note}?workspace=shared-name`, server.url), { headers: { authorization: `Bearer ${server.token('globex', 'bob')}` } });
    expect(response.status).toBe(404);
    expect(JSON.stringify(await response.json())).not.toContain('zanzibar');
  });

  it('shares a blob by equal content across tenants, and keeps it while anyone names it', async () => {
    const theirs = await ok(globex, 'artifact_add', { note: globexNote, content: 'shared bytes\n', workspace: 'shared-name' });
    expect(theirs.sha256).toBe(acmeIds.sha256);
    await ok(globex, 'note_delete', { id: globexNote, workspace: 'shared-name' });
    const blob = join(server.dataDir, 'blobs', 'sha256', acmeIds.sha256.slice(0, 2), acmeIds.sha256.slice(2));
    expect(existsSync(blob)).toBe(true);
    expect(await ok(acme, 'artifact_get', { id: acmeIds.artifact, workspace: 'shared-name' })).toMatchObject({ content: 'shared bytes\n' });
  });
});
