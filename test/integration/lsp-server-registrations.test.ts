import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/principal.js';
import type { Workspace } from '../../src/workspaces/workspace.js';
import { FAKE_SERVER, GATED_SERVER, RENAME_SERVER } from '../helpers/fake-language-server.js';
import { copyFixture, FIXTURES } from '../helpers/fixtures.js';
import { inProcessClient, socketClient, type LspClient } from '../helpers/lsp-clients.js';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/*
 * What language servers register after they started (`client/registerCapability`), passed on
 * to editors, and servers that become ready while an editor's initialize is in flight. The
 * fake servers (test/helpers/fake-language-server.ts) are real processes started by the pool
 * in its sandbox; they register on cue (hover at line 12, unregister at line 13), which no
 * real server does: measured here, typescript-language-server 5.3 registers nothing and
 * pyright only watched files (and pull diagnostics when a client takes them dynamically),
 * both of which the facade serves itself. The last test shows that on real pyright.
 */

const principal: Principal = { tenantId: 'acme', userId: 'ana', role: 'approver' };
const dynamic = { dynamicRegistration: true };
/** An editor taking formatting, commands and watched files dynamically. */
const TAKER = { textDocument: { formatting: dynamic, rename: dynamic, codeLens: dynamic, documentLink: dynamic }, workspace: { executeCommand: dynamic, didChangeWatchedFiles: dynamic } };

const requests = (client: LspClient, method: string) => client.notifications.filter((n) => n.method === method).map((n) => n.params);

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('registrations a server makes after it started', () => {
  const ROOT = 'codebuddy://acme/main';
  const A_FAKE = `${ROOT}/a.fake`;
  const B_REN = `${ROOT}/b.ren`;
  const TEXT = Array.from({ length: 15 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
  let server: TestServer;
  let agent: McpClient;
  let workspace: Workspace;
  let taker: LspClient;
  let fixed: LspClient;
  let refuser: LspClient;
  let later: LspClient;
  const editor = () =>
    inProcessClient((reader, writer) => server.app.lsp.connect(createMessageConnection(new StreamMessageReader(reader), new StreamMessageWriter(writer)), principal, workspace));
  const hover = (client: LspClient, uri: string, line: number) => client.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: line - 1, character: 0 } }) as Promise<{ contents: string }>;
  const formatting = (client: LspClient, uri: string) => client.connection.sendRequest('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });

  beforeAll(async () => {
    server = await startTestServer({ codeServers: [FAKE_SERVER, RENAME_SERVER], codeRequestTimeoutSeconds: 20, codeReadyTimeoutSeconds: 60 });
    agent = await connectModernHttp(server.url, server.token('acme', 'bot'));
    await agent.call('workspace_create', { name: 'main' });
    await agent.call('file_write', { workspace: 'main', path: 'marker.fake', content: 'marker\n' });
    await agent.call('file_write', { workspace: 'main', path: 'a.fake', content: TEXT });
    await agent.call('file_write', { workspace: 'main', path: 'b.ren', content: TEXT });
    workspace = server.app.workspaces.resolve(principal, 'main');
  }, 60_000);

  afterAll(async () => {
    await agent?.close();
    await server?.close();
  });

  it('reach the editors that take them dynamically, under ids of their server; watched files are the pool’s; a refusal concerns no one else', async () => {
    [taker, fixed, refuser] = [editor(), editor(), editor()];
    // This editor fails every registration it is sent.
    refuser.connection.onRequest('client/registerCapability', () => {
      throw new ResponseError(-32603, 'this editor fails registrations');
    });
    await taker.initialize(ROOT, TAKER);
    await fixed.initialize(ROOT);
    await refuser.initialize(ROOT, TAKER);
    await taker.open(A_FAKE, TEXT, 1, 'fake');

    // The pool answered the server at once (null), whatever the editors did.
    expect(await hover(taker, A_FAKE, 12)).toEqual({ contents: 'registered: null' });
    // Sent to the editors before the hover's answer (the server registered before answering; each editor's messages keep their order).
    expect(requests(taker, 'client/registerCapability')).toEqual([
      {
        registrations: [
          { id: 'codebuddy/fake/registered/fmt', method: 'textDocument/formatting', registerOptions: { documentSelector: [{ pattern: '**/*.fake' }] } },
          { id: 'codebuddy/fake/registered/cmd', method: 'workspace/executeCommand', registerOptions: { commands: ['fake.later'] } },
        ],
      },
    ]);
    const fake = server.app.languageServers.of(workspace.id).find((s) => s.spec.id === 'fake')!;
    expect(fake.registrations.map((registration) => registration.id)).toEqual(['w', 'fmt', 'w2', 'cmd']);
    // The editor that takes nothing dynamically is told nothing (a request answered after the registration proves it).
    await hover(fixed, A_FAKE, 1);
    expect(requests(fixed, 'client/registerCapability')).toEqual([]);
    await hover(refuser, A_FAKE, 1);
    expect(requests(refuser, 'client/registerCapability')).toEqual([]);

    // The server and the other editors are unaffected by the refusal: what it registered is routed.
    expect(await formatting(taker, A_FAKE)).toEqual([{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: 'formatted by fake' }]);
    expect(await taker.connection.sendRequest('workspace/executeCommand', { command: 'fake.later', arguments: [] })).toBe('later ran');
    expect(await formatting(refuser, A_FAKE)).toEqual([{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: 'formatted by fake' }]);
  }, 60_000);

  it('two servers using one id stay apart in the editor; a command already known is not registered again', async () => {
    await taker.open(B_REN, TEXT, 1, 'ren');
    // The renamer started late: its rename is registered by the facade first (LateCapabilities' numbered id).
    await taker.notification('client/registerCapability', (params) => JSON.stringify(params).includes('codebuddy/renamer/1'));
    expect(await hover(taker, B_REN, 12)).toEqual({ contents: 'registered: null' });
    expect(requests(taker, 'client/registerCapability').slice(1)).toEqual([
      { registrations: [{ id: 'codebuddy/renamer/1', method: 'textDocument/rename', registerOptions: { prepareProvider: true, documentSelector: [{ pattern: '**/*.ren' }] } }] },
      { registrations: [{ id: 'codebuddy/renamer/registered/fmt', method: 'textDocument/formatting', registerOptions: { documentSelector: [{ pattern: '**/*.ren' }] } }] },
    ]);
    // Each document's formatting is its server's.
    expect(await formatting(taker, B_REN)).toMatchObject([{ newText: 'formatted by renamer' }]);
    expect(await formatting(taker, A_FAKE)).toMatchObject([{ newText: 'formatted by fake' }]);
  }, 60_000);

  it('an unregistration reaches the editors that hold the registration, and only them', async () => {
    expect(await hover(taker, A_FAKE, 13)).toEqual({ contents: 'unregistered' });
    expect(requests(taker, 'client/unregisterCapability')).toEqual([
      {
        unregisterations: [
          { id: 'codebuddy/fake/registered/fmt', method: 'textDocument/formatting' },
          { id: 'codebuddy/fake/registered/cmd', method: 'workspace/executeCommand' },
        ],
      },
    ]);
    // The renamer still offers the command: the editor is given it again, as the renamer's.
    expect(requests(taker, 'client/registerCapability').at(-1)).toEqual({ registrations: [{ id: 'codebuddy/renamer/registered/cmd', method: 'workspace/executeCommand', registerOptions: { commands: ['fake.later'] } }] });
    expect(await taker.connection.sendRequest('workspace/executeCommand', { command: 'fake.later', arguments: [] })).toBe('later ran');
    await hover(refuser, A_FAKE, 1);
    await hover(fixed, A_FAKE, 1);
    expect(requests(refuser, 'client/unregisterCapability')).toEqual([]);
    expect(requests(fixed, 'client/unregisterCapability')).toEqual([]);
  }, 60_000);

  it('an editor connecting after the server registered is given the registrations after its initialized', async () => {
    expect(await hover(taker, A_FAKE, 12)).toEqual({ contents: 'registered: null' });
    // The command is the renamer's for this editor now: only formatting is given again.
    expect(requests(taker, 'client/registerCapability').at(-1)).toEqual({ registrations: [{ id: 'codebuddy/fake/registered/fmt', method: 'textDocument/formatting', registerOptions: { documentSelector: [{ pattern: '**/*.fake' }] } }] });
    later = editor();
    const answer = await later.connection.sendRequest('initialize', { processId: null, rootUri: ROOT, capabilities: TAKER });
    expect(answer).toMatchObject({ capabilities: { renameProvider: { prepareProvider: true } } });
    await later.connection.sendNotification('initialized', {});
    await hover(later, A_FAKE, 1);
    expect(requests(later, 'client/registerCapability')).toEqual([
      {
        registrations: [
          { id: 'codebuddy/fake/registered/fmt', method: 'textDocument/formatting', registerOptions: { documentSelector: [{ pattern: '**/*.fake' }] } },
          { id: 'codebuddy/fake/registered/cmd', method: 'workspace/executeCommand', registerOptions: { commands: ['fake.later'] } },
        ],
      },
      { registrations: [{ id: 'codebuddy/renamer/registered/fmt', method: 'textDocument/formatting', registerOptions: { documentSelector: [{ pattern: '**/*.ren' }] } }] },
    ]);
  }, 60_000);

  it("a registration's URIs are made the editor's, and its scheme dropped", async () => {
    const links = { registrations: [{ id: 'codebuddy/fake/registered/links', method: 'textDocument/documentLink', registerOptions: { documentSelector: [{ pattern: { baseUri: `${ROOT}/sub`, pattern: '**/*.fake' } }] } }] };
    expect(await hover(taker, A_FAKE, 15)).toEqual({ contents: 'links registered' });
    expect(requests(taker, 'client/registerCapability').at(-1)).toEqual(links);
    await hover(later, A_FAKE, 1);
    expect(requests(later, 'client/registerCapability').at(-1)).toEqual(links);
    // What the pool holds is the server's own, untouched (every editor translates a copy to its root).
    const fake = server.app.languageServers.of(workspace.id).find((s) => s.spec.id === 'fake')!;
    expect(fake.registrations.find((registration) => registration.id === 'links')!.registerOptions).toEqual({ documentSelector: [{ scheme: 'file', pattern: { baseUri: 'file:///workspace/sub', pattern: '**/*.fake' } }] });
  }, 60_000);

  it("a crash drops the server's registrations in the editors; its next run registers only what is the pool's", async () => {
    const fake = server.app.languageServers.of(workspace.id).find((s) => s.spec.id === 'fake')!;
    const before = { taker: requests(taker, 'client/unregisterCapability').length, later: requests(later, 'client/unregisterCapability').length };
    process.kill(-fake.pid!, 'SIGKILL');
    // Each editor loses what it holds of the fake's: the later one its command too, given again as the renamer's.
    const fmt = { id: 'codebuddy/fake/registered/fmt', method: 'textDocument/formatting' };
    const links = { id: 'codebuddy/fake/registered/links', method: 'textDocument/documentLink' };
    await taker.notification('client/unregisterCapability', (params) => JSON.stringify(params) === JSON.stringify({ unregisterations: [fmt, links] }));
    await later.notification('client/unregisterCapability', (params) => JSON.stringify(params) === JSON.stringify({ unregisterations: [fmt, { id: 'codebuddy/fake/registered/cmd', method: 'workspace/executeCommand' }, links] }));
    expect(await later.notification('client/registerCapability', (params) => JSON.stringify(params).includes('codebuddy/renamer/registered/cmd'))).toEqual({
      registrations: [{ id: 'codebuddy/renamer/registered/cmd', method: 'workspace/executeCommand', registerOptions: { commands: ['fake.later'] } }],
    });
    expect(requests(taker, 'client/unregisterCapability')).toHaveLength(before.taker + 1);
    expect(requests(later, 'client/unregisterCapability')).toHaveLength(before.later + 1);
    // The next request starts it again: its watcher registration is kept by the pool, and nothing reaches the editors.
    const registered = requests(taker, 'client/registerCapability').length;
    expect((await hover(taker, A_FAKE, 1)).contents).toMatch(/^open: /);
    await until(() => fake.registrations.length === 1, 30_000, 'the restarted server to register its watcher');
    await hover(taker, A_FAKE, 1);
    expect(requests(taker, 'client/registerCapability')).toHaveLength(registered);
    // The renamer's registration was never touched.
    expect(await formatting(later, B_REN)).toMatchObject([{ newText: 'formatted by renamer' }]);
  }, 60_000);

  it('a server registering without end is held to 1,000 registrations, and malformed ones are ignored', async () => {
    const fake = server.app.languageServers.of(workspace.id).find((s) => s.spec.id === 'fake')!;
    const sent = requests(taker, 'client/registerCapability').length;
    // Every request answered (null), none failed, though 3,000 registrations were asked for (at most 100 taken per request).
    expect(await hover(taker, A_FAKE, 14)).toEqual({ contents: 'flooded: null' });
    expect(fake.registrations).toHaveLength(1_000);
    const lenses = requests(taker, 'client/registerCapability').slice(sent) as { registrations: { id: string; method: string }[] }[];
    const given = lenses.flatMap((request) => request.registrations);
    expect(given).toHaveLength(999);
    expect(new Set(given.map((registration) => registration.method))).toEqual(new Set(['textDocument/codeLens']));
    expect(given[0]!.id).toBe('codebuddy/fake/registered/lens-0-0');
    // The server still answers, and the editors are told when its run ends.
    expect((await hover(taker, A_FAKE, 1)).contents).toMatch(/^open: /);
    await fake.stop();
    const dropped = (await taker.notification('client/unregisterCapability', (params) => (params as { unregisterations: unknown[] }).unregisterations.length === 999)) as { unregisterations: { id: string }[] };
    expect(dropped.unregisterations[998]).toEqual({ id: 'codebuddy/fake/registered/lens-9-98', method: 'textDocument/codeLens' });
    for (const client of [taker, fixed, refuser, later]) await client.close();
  }, 60_000);
});

describe('a server that becomes ready while an editor initializes', () => {
  const ROOT = 'codebuddy://acme/gate';
  const B_REN = `${ROOT}/b.ren`;
  let server: TestServer;
  let agent: McpClient;
  let workspace: Workspace;
  const editor = () =>
    inProcessClient((reader, writer) => server.app.lsp.connect(createMessageConnection(new StreamMessageReader(reader), new StreamMessageWriter(writer)), principal, workspace));
  const renamerOf = () => server.app.languageServers.server(workspace, server.app.languageServers.registry.get('renamer')!);
  const initializeParams = { processId: null, rootUri: ROOT, capabilities: { textDocument: { rename: dynamic } } };
  const renameRegistration = { registrations: [{ id: 'codebuddy/renamer/1', method: 'textDocument/rename', registerOptions: { prepareProvider: true, documentSelector: [{ pattern: '**/*.ren' }] } }] };

  beforeAll(async () => {
    server = await startTestServer({ codeServers: [GATED_SERVER, RENAME_SERVER], codeRequestTimeoutSeconds: 20, codeReadyTimeoutSeconds: 60 });
    agent = await connectModernHttp(server.url, server.token('acme', 'bot'));
    await agent.call('workspace_create', { name: 'gate' });
    await agent.call('file_write', { workspace: 'gate', path: 'marker.gate', content: 'marker\n' });
    await agent.call('file_write', { workspace: 'gate', path: 'b.ren', content: 'one\ntwo\n' });
    workspace = server.app.workspaces.resolve(principal, 'gate');
  }, 60_000);

  afterAll(async () => {
    await agent?.close();
    await server?.close();
  });

  it('ready while its initialize waits for another server: left out of the answer, registered once after initialized', async () => {
    const client = editor();
    const answer = client.connection.sendRequest('initialize', initializeParams) as Promise<{ capabilities: Record<string, unknown> }>;
    // The initialize waits on the gated server (it answers only once gate.open exists)...
    await until(() => server.app.languageServers.of(workspace.id).find((s) => s.spec.id === 'gated')?.state === 'starting', 30_000, 'the gated server to start');
    // ...while the renamer becomes ready (an agent's request would start it the same way).
    await renamerOf().connect();
    expect(renamerOf().state).toBe('ready');
    writeFileSync(join(workspace.root, 'gate.open'), 'open\n');
    const told = await answer;
    expect(told.capabilities).toMatchObject({ hoverProvider: true });
    expect(told.capabilities).not.toHaveProperty('renameProvider');
    await client.connection.sendNotification('initialized', {});
    expect(await client.notification('client/registerCapability')).toEqual(renameRegistration);
    // Exactly once: a request answered after the announcement, and a restart of the renamer, add none.
    await renamerOf().stop();
    await renamerOf().connect();
    await client.open(B_REN, 'one\ntwo\n', 1, 'ren');
    expect(await client.connection.sendRequest('textDocument/prepareRename', { textDocument: { uri: B_REN }, position: { line: 1, character: 1 } })).toMatchObject({ placeholder: 'thing' });
    expect(requests(client, 'client/registerCapability')).toEqual([renameRegistration]);
    await client.close();
  }, 90_000);

  it('ready between its initialize answer and its initialized: registered once, after initialized', async () => {
    await renamerOf().stop();
    const client = editor();
    const told = (await client.connection.sendRequest('initialize', initializeParams)) as { capabilities: Record<string, unknown> };
    expect(told.capabilities).not.toHaveProperty('renameProvider');
    await renamerOf().connect();
    // The start happened before initialized: nothing was sent for it then (LSP: registrations come after
    // initialized). The probe is a request answered after the start (a client should not send one yet; the facade answers it).
    expect(await client.connection.sendRequest('textDocument/hover', { textDocument: { uri: B_REN }, position: { line: 0, character: 0 } })).toEqual({ contents: 'open: b.ren v1' });
    expect(requests(client, 'client/registerCapability')).toEqual([]);
    await client.connection.sendNotification('initialized', {});
    expect(await client.notification('client/registerCapability')).toEqual(renameRegistration);
    await client.open(B_REN, 'one\ntwo\n', 1, 'ren');
    await client.connection.sendRequest('textDocument/prepareRename', { textDocument: { uri: B_REN }, position: { line: 1, character: 1 } });
    expect(requests(client, 'client/registerCapability')).toEqual([renameRegistration]);
    await client.close();
  }, 90_000);
});

describe('pyright’s own registrations (real server, WebSocket client)', () => {
  let server: TestServer;
  let agent: McpClient;

  beforeAll(async () => {
    server = await startTestServer({ codeRequestTimeoutSeconds: 60, codeReadyTimeoutSeconds: 90 });
    agent = await connectModernHttp(server.url, server.token('acme', 'bot'));
    await agent.call('workspace_create', { name: 'py' });
    await copyFixture(agent, 'python', 'py');
  }, 120_000);

  afterAll(async () => {
    await agent?.close();
    await server?.close();
  });

  it('are kept by the pool (it feeds pyright file events itself) and never reach an editor, even one taking them dynamically', async () => {
    const client = await socketClient(`ws://${server.url.host}/lsp/py`, { authorization: `Bearer ${server.token('acme', 'ana', 'approver')}` });
    await client.initialize('codebuddy://acme/py', { textDocument: { diagnostic: dynamic, hover: dynamic, definition: dynamic }, workspace: { didChangeWatchedFiles: dynamic, didChangeConfiguration: dynamic, executeCommand: dynamic } });
    const main = 'codebuddy://acme/py/main.py';
    await client.open(main, readFileSync(join(FIXTURES, 'python/main.py'), 'utf8'), 1, 'python');
    await client.diagnosticsFor(main, undefined, 90_000);
    const workspace = server.app.workspaces.resolve({ tenantId: 'acme', userId: 'ana', role: 'approver' }, 'py');
    const pyright = server.app.languageServers.of(workspace.id).find((s) => s.spec.id === 'python')!;
    // What pyright registered, as measured: its file watchers (the pool declares dynamic registration for nothing else).
    expect(new Set(pyright.registrations.map((registration) => registration.method))).toEqual(new Set(['workspace/didChangeWatchedFiles']));
    expect(pyright.registrations[0]!.registerOptions).toMatchObject({ watchers: expect.arrayContaining([{ globPattern: '**', kind: 7 }]) });
    // A request answered after those registrations: nothing of them was sent to the editor.
    await client.connection.sendRequest('textDocument/hover', { textDocument: { uri: main }, position: { line: 0, character: 0 } });
    expect(requests(client, 'client/registerCapability')).toEqual([]);
    expect(requests(client, 'client/unregisterCapability')).toEqual([]);
    await client.close();
  }, 180_000);
});
