import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/principal.js';
import type { Workspace } from '../../src/workspaces/workspace.js';
import { FAKE_SERVER, RENAME_SERVER } from '../helpers/fake-language-server.js';
import { copyFixture, FIXTURES } from '../helpers/fixtures.js';
import { inProcessClient, type LspClient } from '../helpers/lsp-clients.js';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/*
 * A language server that starts after the editors initialized: what it adds is registered
 * with the editors that take dynamic registration, and routed for the others. Two fake
 * servers (test/helpers/fake-language-server.ts): `fake` (hover, definition; its root marker
 * is in the workspace, so it is running at initialize) and `renamer` (the same plus rename,
 * for *.ren, no root marker: it starts when the first *.ren document is opened).
 */

const ROOT = 'codebuddy://acme/main';
const A_FAKE = `${ROOT}/a.fake`;
const B_REN = `${ROOT}/b.ren`;

describe('capabilities of a server that starts late', () => {
  let server: TestServer;
  let agent: McpClient;
  let workspace: Workspace;
  let dynamic: LspClient;
  let fixed: LspClient;
  const principal: Principal = { tenantId: 'acme', userId: 'ana', role: 'approver' };
  const editor = () =>
    inProcessClient((reader, writer) => server.app.lsp.connect(createMessageConnection(new StreamMessageReader(reader), new StreamMessageWriter(writer)), principal, workspace));
  const registrations = (client: LspClient) => client.notifications.filter((n) => n.method === 'client/registerCapability').map((n) => n.params);

  beforeAll(async () => {
    server = await startTestServer({ codeServers: [FAKE_SERVER, RENAME_SERVER], codeRequestTimeoutSeconds: 20, codeReadyTimeoutSeconds: 60 });
    agent = await connectModernHttp(server.url, server.token('acme', 'bot'));
    await agent.call('workspace_create', { name: 'main' });
    await agent.call('file_write', { workspace: 'main', path: 'marker.fake', content: 'marker\n' });
    await agent.call('file_write', { workspace: 'main', path: 'a.fake', content: 'hello\n' });
    await agent.call('file_write', { workspace: 'main', path: 'b.ren', content: 'one\ntwo\n' });
    workspace = server.app.workspaces.resolve(principal, 'main');
  }, 60_000);

  afterAll(async () => {
    await agent?.close();
    await server?.close();
  });

  it('is registered with the editors that take dynamic registration, for its documents only; the others are still routed to it', async () => {
    dynamic = editor();
    fixed = editor();
    const told = await dynamic.initialize(ROOT, { textDocument: { rename: { dynamicRegistration: true }, hover: { dynamicRegistration: true } } });
    await fixed.initialize(ROOT);
    // At initialize only `fake` runs: no rename.
    expect(told.capabilities).toMatchObject({ hoverProvider: true, definitionProvider: true });
    expect(told.capabilities).not.toHaveProperty('renameProvider');
    expect(server.app.languageServers.of(workspace.id).map((s) => `${s.spec.id}:${s.state}`)).toEqual(['fake:ready']);

    // The first *.ren document starts `renamer`: rename is new, hover was announced to every document already.
    await dynamic.open(B_REN, 'one\ntwo\n', 1, 'ren');
    expect(await dynamic.notification('client/registerCapability')).toEqual({
      registrations: [{ id: 'codebuddy/renamer/1', method: 'textDocument/rename', registerOptions: { prepareProvider: true, documentSelector: [{ pattern: '**/*.ren' }] } }],
    });
    // The other editor was not told (it takes no dynamic registration; messages to it keep their order, so a request answered after the start proves it)...
    await fixed.open(A_FAKE, 'hello\n', 1, 'fake');
    expect(await fixed.connection.sendRequest('textDocument/hover', { textDocument: { uri: A_FAKE }, position: { line: 0, character: 0 } })).toMatchObject({ contents: expect.stringMatching(/^open: /) });
    expect(registrations(fixed)).toEqual([]);
    // ...yet its rename request is routed to the server of the document.
    await fixed.open(B_REN, 'one\ntwo\n', 1, 'ren');
    expect(await fixed.connection.sendRequest('textDocument/prepareRename', { textDocument: { uri: B_REN }, position: { line: 1, character: 1 } })).toEqual({
      range: { start: { line: 1, character: 1 }, end: { line: 1, character: 1 } },
      placeholder: 'thing',
    });
  }, 60_000);

  it('an editor connecting later learns it at initialize; a restart registers nothing twice', async () => {
    const later = editor();
    expect((await later.initialize(ROOT, { textDocument: { rename: { dynamicRegistration: true } } })).capabilities).toMatchObject({ renameProvider: { prepareProvider: true } });
    const renamer = server.app.languageServers.of(workspace.id).find((s) => s.spec.id === 'renamer')!;
    await renamer.stop();
    await dynamic.connection.sendRequest('textDocument/prepareRename', { textDocument: { uri: B_REN }, position: { line: 1, character: 1 } });
    expect(renamer.state).toBe('ready');
    // Both editors' messages are ordered: a request answered now comes after any registration sent at the restart.
    await later.connection.sendRequest('textDocument/hover', { textDocument: { uri: A_FAKE }, position: { line: 0, character: 0 } });
    expect(registrations(dynamic)).toHaveLength(1);
    expect(registrations(later)).toEqual([]);
    await later.close();
  }, 60_000);
});

describe('pyright starting in a TypeScript workspace (real servers)', () => {
  let server: TestServer;
  let agent: McpClient;

  beforeAll(async () => {
    server = await startTestServer({ codeRequestTimeoutSeconds: 60, codeReadyTimeoutSeconds: 90 });
    agent = await connectModernHttp(server.url, server.token('acme', 'bot'));
    await agent.call('workspace_create', { name: 'mixed' });
    // The TypeScript fixture at the root (tsconfig.json: typescript runs at initialize), the Python one below (no Python marker at the root).
    await copyFixture(agent, 'typescript', 'mixed');
    await copyFixture(agent, 'python', 'mixed', 'py');
  }, 120_000);

  afterAll(async () => {
    await agent?.close();
    await server?.close();
  });

  it('the first Python file opened registers what pyright adds, and requests for it are answered by pyright', async () => {
    const principal: Principal = { tenantId: 'acme', userId: 'ana', role: 'approver' };
    const workspace = server.app.workspaces.resolve(principal, 'mixed');
    const client = inProcessClient((reader, writer) => server.app.lsp.connect(createMessageConnection(new StreamMessageReader(reader), new StreamMessageWriter(writer)), principal, workspace));
    const dynamic = { dynamicRegistration: true };
    const told = await client.initialize('codebuddy://acme/mixed', { textDocument: { declaration: dynamic, hover: dynamic, definition: dynamic }, workspace: { executeCommand: dynamic } });
    expect(server.app.languageServers.of(workspace.id).map((s) => s.spec.id)).toEqual(['typescript']);
    expect(told.capabilities).not.toHaveProperty('declarationProvider');
    const main = 'codebuddy://acme/mixed/py/main.py';
    await client.open(main, readFileSync(join(FIXTURES, 'python/main.py'), 'utf8'), 1, 'python');
    const registered = (await client.notification('client/registerCapability', undefined, 90_000)) as { registrations: { id: string; method: string; registerOptions: Record<string, unknown> }[] };
    const pyright = server.app.languageServers.of(workspace.id).find((s) => s.spec.id === 'python')!.capabilities!;
    // pyright adds declarations (typescript-language-server has none); it advertises no commands at initialize: nothing for executeCommand.
    expect(pyright.executeCommandProvider?.commands ?? []).toEqual([]);
    expect(registered.registrations).toEqual([
      { id: 'codebuddy/python/1', method: 'textDocument/declaration', registerOptions: { ...(pyright.declarationProvider as object), documentSelector: [{ pattern: '**/*.py' }, { pattern: '**/*.pyi' }] } },
    ]);
    // Hover was announced at initialize (typescript has it): not registered again, yet routed to pyright for a Python file.
    await client.diagnosticsFor(main, undefined, 90_000);
    const declaration = (await client.connection.sendRequest('textDocument/declaration', { textDocument: { uri: main }, position: { line: 2, character: 8 } })) as { uri: string }[];
    expect(declaration.map((location) => location.uri)).toEqual(['codebuddy://acme/mixed/py/shop/cart.py']);
    await client.close();
  }, 180_000);
});
