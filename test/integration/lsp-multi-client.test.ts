import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CancellationTokenSource, createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/principal.js';
import type { Workspace } from '../../src/workspaces/workspace.js';
import { FAKE_SERVER } from '../helpers/fake-language-server.js';
import { eventually } from '../helpers/sync-clients.js';
import { inProcessClient, type LspClient } from '../helpers/lsp-clients.js';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/*
 * Two editors on one language server, through the facade of a running server (each editor a
 * real vscode-jsonrpc client on its own in-memory stream pair; the server side is the app's
 * facade, the same one /lsp/:workspace serves), next to an agent using the MCP code tools on
 * the same server process. The server is the fake one (test/helpers/fake-language-server.ts):
 * it reports the versions it was sent and the cancels it received, which no real server does.
 */

const ROOT = 'codebuddy://acme/main';
const A_FAKE = `${ROOT}/a.fake`;
const hoverAt = (uri: string, line: number) => ({ textDocument: { uri }, position: { line, character: 0 } });
const contents = (answer: unknown) => (answer as { contents: string }).contents;

describe('many editors on one language server', () => {
  let server: TestServer;
  let agent: McpClient;
  let workspace: Workspace;
  let a: LspClient;
  let b: LspClient;
  const principal: Principal = { tenantId: 'acme', userId: 'ana', role: 'approver' };

  const editor = () =>
    inProcessClient((reader, writer) => server.app.lsp.connect(createMessageConnection(new StreamMessageReader(reader), new StreamMessageWriter(writer)), principal, workspace));

  beforeAll(async () => {
    server = await startTestServer({ codeServers: [FAKE_SERVER], codeRequestTimeoutSeconds: 20, codeReadyTimeoutSeconds: 60 });
    agent = await connectModernHttp(server.url, server.token('acme', 'bot'));
    await agent.call('workspace_create', { name: 'main' });
    await agent.call('file_write', { workspace: 'main', path: 'marker.fake', content: 'marker\n' });
    await agent.call('file_write', { workspace: 'main', path: 'a.fake', content: 'hello\n' });
    workspace = server.app.workspaces.resolve(principal, 'main');
    a = editor();
    b = editor();
    for (const client of [a, b]) expect((await client.initialize(ROOT)).capabilities).toMatchObject({ hoverProvider: true, definitionProvider: true, textDocumentSync: { change: 1 } });
  }, 60_000);

  afterAll(async () => {
    await agent?.close();
    await server?.close();
  });

  it('one version sequence per document reaches the server; each request is answered on its own editor\'s buffer; diagnostics go to the editor whose text they are of', async () => {
    await a.open(A_FAKE, 'hello\n', 1, 'fake');
    await b.open(A_FAKE, 'hello\n', 1, 'fake');
    // Same text in both buffers: the server has it once, as version 1.
    expect(contents(await a.connection.sendRequest('textDocument/hover', hoverAt(A_FAKE, 0)))).toBe('open: a.fake v1');

    await b.connection.sendNotification('textDocument/didChange', { textDocument: { uri: A_FAKE, version: 2 }, contentChanges: [{ text: 'hello\nERR from B\n' }] });
    // B's diagnostics, of B's text, under B's own version number.
    const forB = await b.diagnosticsFor(A_FAKE, (p) => p.diagnostics.length > 0);
    expect(forB).toEqual({ uri: A_FAKE, version: 2, diagnostics: [{ range: { start: { line: 1, character: 0 }, end: { line: 1, character: 10 } }, severity: 1, message: 'ERR from B' }] });

    // A asks: A's buffer is shown again first (version 3), B asks: B's (version 4).
    expect(contents(await a.connection.sendRequest('textDocument/hover', hoverAt(A_FAKE, 0)))).toBe('open: a.fake v3');
    expect(contents(await b.connection.sendRequest('textDocument/hover', hoverAt(A_FAKE, 0)))).toBe('open: a.fake v4');
    // A never received diagnostics of B's text.
    expect(a.notifications.filter((n) => n.method === 'textDocument/publishDiagnostics').map((n) => n.params)).not.toContainEqual(expect.objectContaining({ diagnostics: [expect.objectContaining({ message: 'ERR from B' })] }));

    // An agent's write to the open document: both editors are told; the server keeps the buffer.
    const written = await agent.call('file_write', { workspace: 'main', path: 'a.fake', content: 'from the agent\n' });
    const announced = (await a.notification('codebuddy/fileChanged')) as { uri: string; actionId: string; deleted: boolean };
    expect(announced).toEqual({ uri: A_FAKE, deleted: false, actionId: written.structured!.action_id ?? expect.stringMatching(/^act_/) });
    expect(await b.notification('codebuddy/fileChanged')).toMatchObject({ uri: A_FAKE });
    expect(await a.notification('window/showMessage', (p) => (p as { message: string }).message.includes('a.fake changed on disk'))).toMatchObject({ type: 3 });

    // The MCP code tools answer on the same server, and say the answer is of an editor's unsaved buffer.
    const viaMcp = await agent.call('code_hover', { workspace: 'main', path: 'a.fake', line: 1, column: 1 });
    expect(viaMcp.text).toContain('open: a.fake v4');
    expect(viaMcp.structured!.notes).toEqual(["a.fake: answered on an editor's unsaved buffer (version 4), not the file on disk"]);

    // Once no editor holds it, the server sees the disk again, as the next version.
    await a.connection.sendNotification('textDocument/didClose', { textDocument: { uri: A_FAKE } });
    // (The agent's write is not announced to the server as a watched-file change: an open document's text is the editors'.)
    expect(contents(await b.connection.sendRequest('textDocument/hover', hoverAt(A_FAKE, 0)))).toMatch(/^open: a\.fake v4(;|$)/);
    await b.connection.sendNotification('textDocument/didClose', { textDocument: { uri: A_FAKE } });
    // (An editor's messages are handled in order; another client's request may overtake them, so B asks first.)
    expect(contents(await b.connection.sendRequest('textDocument/hover', hoverAt(A_FAKE, 0)))).toMatch(/^open: a\.fake v5(;|$)/);
    const after = await agent.call('code_hover', { workspace: 'main', path: 'a.fake', line: 1, column: 1 });
    expect(after.text).toContain('open: a.fake v5');
    expect(after.structured!.notes).toEqual([]);
  }, 60_000);

  it('request ids do not cross, and a cancel reaches only the request it names', async () => {
    await a.open(A_FAKE, 'a\n', 10, 'fake');
    await b.open(A_FAKE, 'a\n', 10, 'fake');
    // Line 2 never answers. Both editors have sent three requests so far, and each connection
    // numbers its own from 0: these two carry the same id, 3.
    const cancelA = new CancellationTokenSource();
    const cancelB = new CancellationTokenSource();
    const hangA = a.connection.sendRequest('textDocument/hover', hoverAt(A_FAKE, 1), cancelA.token);
    const hangB = b.connection.sendRequest('textDocument/hover', hoverAt(A_FAKE, 1), cancelB.token);
    let settledB = false;
    void hangB.then(
      () => (settledB = true),
      () => (settledB = true),
    );
    await eventually(() => existsSync(join(workspace.root, '.hanging')), 'the hanging request reaches the server', 30_000);
    cancelA.cancel();
    await expect(hangA).rejects.toMatchObject({ code: -32800 });
    expect(contents(await a.connection.sendRequest('textDocument/hover', hoverAt(A_FAKE, 5)))).toBe('cancelled: 1');
    expect(settledB).toBe(false);
    cancelB.cancel();
    await expect(hangB).rejects.toMatchObject({ code: -32800 });
    expect(contents(await b.connection.sendRequest('textDocument/hover', hoverAt(A_FAKE, 5)))).toBe('cancelled: 2');
  }, 60_000);

  it('a server request goes to the editor whose request caused it, URIs translated; one no editor caused is answered by CodeBuddy', async () => {
    // Line 5: the server asks its client to apply an edit before answering.
    expect(contents(await b.connection.sendRequest('textDocument/hover', hoverAt(A_FAKE, 4)))).toBe('applied: true');
    expect(b.notifications.filter((n) => n.method === 'workspace/applyEdit').map((n) => n.params)).toEqual([
      { label: 'fake', edit: { changes: { [A_FAKE]: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: '// ' }] } } },
    ]);
    expect(a.notifications.filter((n) => n.method === 'workspace/applyEdit')).toEqual([]);
    // An edit to a file outside the workspace never reaches the editor.
    expect(contents(await b.connection.sendRequest('textDocument/hover', hoverAt(A_FAKE, 6)))).toBe('applied: false');
    expect(b.notifications.filter((n) => n.method === 'workspace/applyEdit')).toHaveLength(1);
    // The agent's request caused it: refused (agents edit through tools).
    await agent.call('file_write', { workspace: 'main', path: 'five.fake', content: '1\n2\n3\n4\n5\n' });
    const viaMcp = await agent.call('code_hover', { workspace: 'main', path: 'five.fake', line: 5, column: 1 });
    expect(viaMcp.text).toContain('applied: false');
  }, 60_000);

  it('progress of a request goes to the editor that made it, under its own token even when another editor uses the same one; partial results are translated', async () => {
    // Line 8 (the fake server): progress on the hover's own tokens. Both editors use tokens 1 and 2.
    const [answerA, answerB] = await Promise.all([
      a.connection.sendRequest('textDocument/hover', { ...hoverAt(A_FAKE, 7), workDoneToken: 1, partialResultToken: 2 }),
      b.connection.sendRequest('textDocument/hover', { textDocument: { uri: A_FAKE }, position: { line: 7, character: 3 }, workDoneToken: 1, partialResultToken: 2 }),
    ]);
    // The server saw tokens unique per editor and request, never the editors' own.
    const [tokensA, tokensB] = [contents(answerA), contents(answerB)];
    expect(tokensA).toMatch(/^tokens: \S+\/\d+ \S+\/\d+$/);
    expect(new Set([...tokensA.split(' ').slice(1), ...tokensB.split(' ').slice(1)]).size).toBe(4);
    const progressOf = (client: LspClient) => client.notifications.filter((n) => n.method === '$/progress').map((n) => n.params);
    expect(progressOf(a)).toEqual([
      { token: 1, value: { kind: 'begin', title: 'hover at a.fake:0' } },
      { token: 2, value: [{ uri: A_FAKE, range: { start: { line: 7, character: 0 }, end: { line: 7, character: 0 } } }] },
      { token: 1, value: { kind: 'end' } },
    ]);
    expect(progressOf(b)).toEqual([
      { token: 1, value: { kind: 'begin', title: 'hover at a.fake:3' } },
      { token: 2, value: [{ uri: A_FAKE, range: { start: { line: 7, character: 3 }, end: { line: 7, character: 3 } } }] },
      { token: 1, value: { kind: 'end' } },
    ]);
  }, 60_000);

  it("a server's own progress reaches every editor that takes progress (token created first, the server never waiting on it); its logs and messages reach every editor", async () => {
    // (The fake server, because a real one reports its own progress only while loading a project.)
    const c = editor();
    await c.initialize(ROOT, { window: { workDoneProgress: true } });
    // Line 9: the server creates a token, waits for the answer, then reports, logs and ends.
    expect(contents(await a.connection.sendRequest('textDocument/hover', hoverAt(A_FAKE, 8)))).toBe('created: null');
    const end = (params: unknown) => (params as { value?: { kind?: string } }).value?.kind === 'end';
    await c.notification('$/progress', end);
    const sequence = c.notifications.filter((n) => n.method !== 'textDocument/publishDiagnostics');
    const token = (sequence[0]?.params as { token: string }).token;
    expect(token).toMatch(/^fake\/load-/);
    expect(sequence).toEqual([
      { method: 'window/workDoneProgress/create', params: { token } },
      { method: '$/progress', params: { token, value: { kind: 'begin', title: 'loading' } } },
      { method: 'window/logMessage', params: { type: 3, message: `log of ${token.slice('fake/'.length)}` } },
      { method: 'window/showMessage', params: { type: 3, message: `message of ${token.slice('fake/'.length)}` } },
      { method: '$/logTrace', params: { message: `trace of ${token.slice('fake/'.length)}` } },
      { method: '$/progress', params: { token, value: { kind: 'end', message: 'loaded' } } },
    ]);
    // A and B did not say they take progress: the logs and messages only.
    for (const client of [a, b]) {
      await client.notification('$/logTrace');
      const theirs = client.notifications.filter((n) => ['window/workDoneProgress/create', '$/progress', 'window/logMessage', '$/logTrace'].includes(n.method) && !(n.params as { token?: unknown }).token);
      expect(theirs.map((n) => n.method)).toEqual(['window/logMessage', '$/logTrace']);
      expect(client.notifications.filter((n) => n.method === 'window/workDoneProgress/create')).toEqual([]);
      expect(client.notifications.filter((n) => n.method === '$/progress').map((n) => (n.params as { token: unknown }).token)).not.toContain(token);
    }
    await c.close();
  }, 60_000);

  it("a server flooding its log does not flood the editors: at most 100 messages a second reach each, the rest are counted and reported", async () => {
    const c = editor();
    await c.initialize(ROOT);
    const logs = () => c.notifications.filter((n) => ['window/logMessage', 'window/showMessage', '$/logTrace'].includes(n.method)).map((n) => (n.params as { message: string }).message);
    // Line 4 (the fake server): 5,000 log messages of 2 KB, then the answer.
    expect(contents(await c.connection.sendRequest('textDocument/hover', hoverAt(A_FAKE, 3)))).toBe('flooded');
    // Each later hover at line 9 makes 3 more messages; the drop count is reported with the first message of a later second.
    let sent = 5000;
    const accounted = () => {
      const received = logs().filter((message) => !message.startsWith('CodeBuddy dropped'));
      const dropped = logs().flatMap((message) => /^CodeBuddy dropped (\d+) /.exec(message)?.[1] ?? []).reduce((sum, n) => sum + Number(n), 0);
      return received.length + dropped;
    };
    await eventually(async () => {
      if (accounted() === sent) return true;
      await c.connection.sendRequest('textDocument/hover', hoverAt(A_FAKE, 8));
      sent += 3;
      return false;
    }, 'every flooded message received or counted as dropped', 60_000);
    expect(logs().filter((message) => message === 'x'.repeat(2048)).length).toBeLessThan(5000);
    expect(logs().some((message) => /^CodeBuddy dropped \d+ log messages of the language servers \(more than 100 a second\)$/.test(message))).toBe(true);
    await c.close();
  }, 120_000);

  it('one editor cannot fill a server with held documents: past 500 it is told, and the document stays its own', async () => {
    const c = editor();
    await c.initialize(ROOT);
    for (let i = 0; i < 501; i++) await c.open(`${ROOT}/many/${i}.fake`, `doc ${i}\n`, 1, 'fake');
    expect(await c.notification('window/showMessage', (p) => (p as { message: string }).message.includes('many/500.fake'))).toEqual({
      type: 2,
      message: 'CodeBuddy keeps at most 500 open documents per editor; many/500.fake is not sent to the language server',
    });
    await c.close();
  }, 120_000);
});
