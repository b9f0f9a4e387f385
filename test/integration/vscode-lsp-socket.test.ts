import { createMessageConnection } from 'vscode-jsonrpc/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeReason } from '../../clients/vscode/src/connection-state.js';
import { targetOf } from '../../clients/vscode/src/connection-target.js';
import { openSocketTransport } from '../../clients/vscode/src/socket-transport.js';
import { FAKE_SERVER } from '../helpers/fake-language-server.js';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/*
 * The VS Code extension's WebSocket transport (clients/vscode/src/socket-transport.ts, its own
 * copy of the wire format: one JSON-RPC message per frame) and the target it builds from its
 * settings, against a real server's /lsp/:workspace. The language client on top of it
 * (vscode-languageclient) needs VS Code, which cannot be downloaded here.
 */

describe("the VS Code extension's socket to /lsp/:workspace, against a real server", () => {
  let server: TestServer;
  let agent: McpClient;
  let token: string;

  beforeAll(async () => {
    server = await startTestServer({ codeServers: [FAKE_SERVER], codeReadyTimeoutSeconds: 60 });
    token = server.token('acme', 'ana', 'approver');
    agent = await connectModernHttp(server.url, server.token('acme', 'bot', 'agent'));
    await agent.call('workspace_create', { name: 'main' });
    await agent.call('file_write', { workspace: 'main', path: 'marker.fake', content: 'marker\n' });
  }, 60_000);

  afterAll(async () => {
    await agent?.close();
    await server?.close();
  });

  it('initializes and runs the facade commands with the token in a header', async () => {
    const target = targetOf({ mode: 'remote', command: '', serverUrl: server.url.href, workspace: 'ignored' }, { scheme: 'codebuddy', workspace: 'main' }, token);
    if (target.kind !== 'remote') throw new Error(`not remote: ${JSON.stringify(target)}`);
    const closes: { code: number; reason: string }[] = [];
    const { reader, writer, socket } = await openSocketTransport(target.url, target.headers, (code, reason) => closes.push({ code, reason }));
    const connection = createMessageConnection(reader, writer);
    connection.listen();
    const initialized = (await connection.sendRequest('initialize', { processId: null, rootUri: 'codebuddy://main/', capabilities: {}, workspaceFolders: null })) as { capabilities: Record<string, unknown> };
    expect(initialized.capabilities).toMatchObject({ hoverProvider: true, executeCommandProvider: { commands: expect.arrayContaining(['codebuddy.pending', 'codebuddy.approve']) } });
    await connection.sendNotification('initialized', {});
    expect(await connection.sendRequest('workspace/executeCommand', { command: 'codebuddy.pending', arguments: [] })).toMatchObject({ actions: [] });
    await connection.sendRequest('shutdown');
    await connection.sendNotification('exit');
    await new Promise<void>((resolve) => (socket.readyState === socket.CLOSED ? resolve() : socket.once('close', () => resolve())));
    expect(closes).toEqual([{ code: 1000, reason: 'exit' }]);
    connection.dispose();
  }, 60_000);

  it('hears a refused token and a foreign workspace as final refusals (no retry)', async () => {
    for (const [workspace, credential, expected] of [
      ['main', 'cb_not-a-token', { retry: false, message: 'the token was refused: set it again (CodeBuddy: Set Token)' }],
      ['nothing', token, { retry: false, message: 'no such workspace for this token (workspace nothing not found)' }],
    ] as const) {
      const target = targetOf({ mode: 'remote', command: '', serverUrl: server.url.href, workspace }, undefined, credential);
      if (target.kind !== 'remote') throw new Error('not remote');
      const closed = new Promise<{ code: number; reason: string }>((resolve) => {
        void openSocketTransport(target.url, target.headers, (code, reason) => resolve({ code, reason }));
      });
      const { code, reason } = await closed;
      expect(closeReason(code, reason)).toEqual(expected);
    }
  });

  it('says how an upgrade was refused before it happened', async () => {
    const target = targetOf({ mode: 'remote', command: '', serverUrl: server.url.href, workspace: 'main' }, undefined, token);
    if (target.kind !== 'remote') throw new Error('not remote');
    await expect(openSocketTransport(target.url, { ...target.headers, origin: 'http://evil.example' }, () => undefined)).rejects.toThrow(`${target.url} refused the WebSocket: HTTP 403`);
  });
});
