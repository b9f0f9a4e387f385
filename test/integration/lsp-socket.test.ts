import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FAKE_SERVER } from '../helpers/fake-language-server.js';
import { closeOf, socketClient } from '../helpers/lsp-clients.js';
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
    expect(await upgrade({ origin: 'http://evil.example' })).toBe(403);
    expect(await upgrade({ host: 'evil.example' })).toBe(403);
  }, 60_000);
});
