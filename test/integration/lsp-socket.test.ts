import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FAKE_SERVER } from '../helpers/fake-language-server.js';
import { closeOf, socketClient, type LspClient } from '../helpers/lsp-clients.js';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/*
 * `/lsp/:workspace` over a WebSocket with a vscode-jsonrpc client: authentication, tenancy,
 * Host/Origin; then agents' held actions as diagnostics, decided from the editor through the
 * same operations (and role checks) as MCP.
 */

const ROOT = 'codebuddy://acme/main';
const APP = `${ROOT}/app.fake`;
const hoverAt = (uri: string, line: number) => ({ textDocument: { uri }, position: { line, character: 0 } });

describe('the LSP facade over a WebSocket', () => {
  let server: TestServer;
  let agent: McpClient;
  let approverToken: string;
  let agentToken: string;
  let root: string;
  let url: (workspace: string, token?: string) => string;

  beforeAll(async () => {
    server = await startTestServer({ codeServers: [FAKE_SERVER], codeReadyTimeoutSeconds: 60 });
    agentToken = server.token('acme', 'bot', 'agent');
    approverToken = server.token('acme', 'ana', 'approver');
    agent = await connectModernHttp(server.url, agentToken);
    root = (await agent.call('workspace_create', { name: 'main' })).structured!.root as string;
    await agent.call('file_write', { workspace: 'main', path: 'marker.fake', content: 'marker\n' });
    await agent.call('file_write', { workspace: 'main', path: 'app.fake', content: 'one\ntwo\nthree\n' });
    url = (workspace, token) => `ws://${server.url.host}/lsp/${workspace}${token ? `?token=${token}` : ''}`;
  }, 60_000);

  afterAll(async () => {
    await agent?.close();
    await server?.close();
  });

  it('serves an editor with a token (bearer header or ?token=); refuses none, a bad one, another tenant\'s and a foreign Origin or Host', async () => {
    for (const client of [await socketClient(url('main', approverToken)), await socketClient(url('main'), { authorization: `Bearer ${approverToken}` })]) {
      expect((await client.initialize(ROOT)).capabilities).toMatchObject({ hoverProvider: true, executeCommandProvider: { commands: expect.arrayContaining(['codebuddy.approve']) } });
      await client.open(APP, 'one\ntwo\nthree\n', 1, 'fake');
      expect(await client.connection.sendRequest('textDocument/hover', hoverAt(APP, 0))).toMatchObject({ contents: expect.stringMatching(/^open: app\.fake v1/) });
      await client.close();
    }
    const refused = async (address: string, headers: Record<string, string> = {}) => {
      const socket = new WebSocket(address, { headers });
      return closeOf(socket);
    };
    expect(await refused(url('main'))).toEqual({ code: 4401, reason: 'The token is missing, invalid or revoked.' });
    expect(await refused(url('main', 'cb_not-a-token'))).toMatchObject({ code: 4401 });
    const workspaceId = server.app.workspaces.resolve({ tenantId: 'acme', userId: 'bot', role: 'agent' }, 'main').id;
    const intruder = server.token('globex', 'eve', 'admin');
    // Another tenant's workspace, by id or by name, answers exactly as a missing one.
    expect(await refused(url(workspaceId, intruder))).toEqual({ code: 4404, reason: `workspace ${workspaceId} not found` });
    expect(await refused(url('nothing', approverToken))).toEqual({ code: 4404, reason: 'workspace nothing not found' });
    const upgrade = (headers: Record<string, string>) =>
      new Promise<number | string>((resolve) => {
        const socket = new WebSocket(url('main', approverToken), { headers });
        socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
        socket.on('open', () => resolve('opened'));
        socket.on('error', (error) => resolve(`error ${error.message}`));
      });
    // A token revoked while its editor is connected ends the connection.
    const doomed = server.app.tokens.create({ tenantId: 'acme', userId: 'leaver', role: 'approver' });
    const leaving = await socketClient(url('main', doomed.token));
    await leaving.initialize(ROOT);
    const ended = closeOf(leaving.socket);
    server.app.tokens.revoke(doomed.id, 'acme/admin');
    expect(await ended).toEqual({ code: 4401, reason: 'The token was revoked or has expired.' });
    expect(await upgrade({ origin: 'http://evil.example' })).toBe(403);
    expect(await upgrade({ host: 'evil.example' })).toBe(403);
  }, 60_000);

  it('a large answer is passed on as the server wrote it (not parsed and written again), URIs translated, the editor\'s id on it; one that is not a single JSON value is refused', async () => {
    const client = await socketClient(url('main', approverToken));
    await client.initialize(ROOT);
    await client.open(APP, 'one\ntwo\nthree\n', 1, 'fake');
    // Line 10 (the fake server): 2,000 locations, about 150 KB, above the size kept as text.
    const locations = (await client.connection.sendRequest('textDocument/definition', hoverAt(APP, 9))) as { uri: string; range: unknown }[];
    expect(locations).toHaveLength(2000);
    expect(locations.slice(0, 2)).toEqual([
      { uri: `${ROOT}/other/0.fake`, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } } },
      { uri: APP, range: { start: { line: 1, character: 0 }, end: { line: 1, character: 1 } } },
    ]);
    expect(locations.every((location, i) => location.uri === (i % 2 ? APP : `${ROOT}/other/${i}.fake`))).toBe(true);
    // Line 11: a large answer followed by a second "id", to answer another request: refused, and the next request is answered as usual.
    await expect(client.connection.sendRequest('textDocument/definition', hoverAt(APP, 10))).rejects.toMatchObject({ code: -32803, message: 'E_UNAVAILABLE: the fake language server answered textDocument/definition with invalid JSON' });
    expect(await client.connection.sendRequest('textDocument/hover', hoverAt(APP, 0))).toMatchObject({ contents: expect.stringMatching(/^open: app\.fake v1/) });
    await client.close();
  }, 60_000);

  describe('held agent actions', () => {
    let editor: LspClient;
    let agentEditor: LspClient;

    beforeAll(async () => {
      const approver = await connectModernHttp(server.url, approverToken);
      expect((await approver.call('policy_set', { workspace: 'main', preset: 'review-writes' })).isError).toBe(false);
      await approver.close();
      editor = await socketClient(url('main', approverToken));
      agentEditor = await socketClient(url('main', agentToken));
      for (const client of [editor, agentEditor]) {
        await client.initialize(ROOT);
        await client.open(APP, 'one\ntwo\nthree\n', 1, 'fake');
      }
    }, 60_000);

    afterAll(async () => {
      await editor?.close();
      await agentEditor?.close();
    });

    it('an agent\'s held file_edit is a diagnostic on the lines it would change, with code actions; an agent\'s token cannot approve it; the approver\'s can, and the diagnostic goes', async () => {
      const held = await agent.call('file_edit', { workspace: 'main', path: 'app.fake', edits: [{ old: 'two', new: 'TWO' }] });
      const id = held.structured!.action_id as string;
      expect(held.structured).toMatchObject({ status: 'pending_approval' });
      const pending = {
        range: { start: { line: 1, character: 0 }, end: { line: 2, character: 0 } },
        severity: 3,
        source: 'codebuddy',
        code: id,
        message: `pending file_edit by acme/bot (${id}): show the diff, approve or reject`,
        data: { actionId: id },
      };
      expect(await editor.diagnosticsFor(APP, (p) => p.diagnostics.length > 0)).toEqual({ uri: APP, version: 1, diagnostics: [pending] });
      expect(await editor.notification('codebuddy/actionChanged')).toEqual({ id, operation: 'file_edit', state: 'proposed' });

      const actions = (await editor.connection.sendRequest('textDocument/codeAction', { textDocument: { uri: APP }, range: { start: { line: 1, character: 1 }, end: { line: 1, character: 1 } }, context: { diagnostics: [] } })) as { title: string; command: { command: string; arguments: unknown[] } }[];
      expect(actions.map((action) => [action.title, action.command.command, action.command.arguments])).toEqual([
        [`Show diff of file_edit ${id}`, 'codebuddy.diff', [id]],
        [`Approve file_edit ${id}`, 'codebuddy.approve', [id]],
        [`Reject file_edit ${id}`, 'codebuddy.reject', [id]],
      ]);
      // The held actions, as the extension's tree view lists them.
      expect(await editor.connection.sendRequest('workspace/executeCommand', { command: 'codebuddy.pending', arguments: [] })).toMatchObject({ actions: [{ id, operation: 'file_edit', status: 'proposed' }] });
      const diff = (await editor.connection.sendRequest('workspace/executeCommand', actions[0]!.command)) as { preview: string; status: string };
      expect(diff).toMatchObject({ id, status: 'proposed' });
      expect(diff.preview).toContain('-two\n+TWO');

      // The agent's own editor: the same role check as MCP, the same error code.
      await expect(agentEditor.connection.sendRequest('workspace/executeCommand', actions[1]!.command)).rejects.toMatchObject({ data: { code: 'E_FORBIDDEN' }, message: expect.stringContaining('action_approve needs the approver or admin role') });
      expect(readFileSync(join(root, 'app.fake'), 'utf8')).toBe('one\ntwo\nthree\n');

      const approved = await editor.connection.sendRequest('workspace/executeCommand', actions[1]!.command);
      expect(approved).toMatchObject({ id, status: 'applied', decided_by: 'acme/ana' });
      expect(readFileSync(join(root, 'app.fake'), 'utf8')).toBe('one\nTWO\nthree\n');
      await editor.notification('codebuddy/actionChanged', (p) => (p as { state: string }).state === 'applied');
      // The diagnostic goes (the latest publication has none), and the disk change is announced to the open buffer.
      await editor.diagnosticsFor(APP, () => editor.diagnostics.get(APP)!.diagnostics.length === 0);
      expect(await editor.notification('codebuddy/fileChanged')).toMatchObject({ uri: APP, deleted: false });
      // Recorded like any call: by the editor's principal.
      const audit = server.app.actions.findById('acme', id);
      expect(audit).toMatchObject({ status: 'applied' });
    }, 60_000);

    it('a rejection from the editor is the same operation; the diagnostic goes', async () => {
      const held = await agent.call('file_write', { workspace: 'main', path: 'app.fake', content: 'replaced\n' });
      const id = held.structured!.action_id as string;
      await editor.diagnosticsFor(APP, (p) => p.diagnostics.some((d) => d.code === id));
      expect(await editor.connection.sendRequest('workspace/executeCommand', { command: 'codebuddy.reject', arguments: [id, 'not now'] })).toMatchObject({ id, status: 'rejected', reason: 'not now' });
      await editor.diagnosticsFor(APP, () => !editor.diagnostics.get(APP)!.diagnostics.some((d) => d.code === id));
      await expect(editor.connection.sendRequest('workspace/executeCommand', { command: 'codebuddy.approve', arguments: [id] })).rejects.toMatchObject({ data: { code: 'E_CONFLICT' } });
      await expect(editor.connection.sendRequest('workspace/executeCommand', { command: 'codebuddy.approve', arguments: [] })).rejects.toMatchObject({ code: -32602 });
    }, 60_000);
  });
});
