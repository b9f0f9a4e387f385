import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_SERVER } from '../helpers/fake-language-server.js';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/*
 * Idle language servers stop, and take the workspace's file watcher with them; the next
 * request starts the server again with a fresh view of the files. The server is the fake one
 * (test/helpers/fake-language-server.ts, configured through `codeServers`): what is tested is
 * the pool's life cycle, which is the same for every server.
 */
describe('idle language servers', () => {
  let server: TestServer;
  let agent: McpClient;
  let workspaceId: string;

  beforeAll(async () => {
    // One second of idleness stops a server; the pool sweeps every second.
    server = await startTestServer({ codeServers: [FAKE_SERVER], codeIdleStopMinutes: 1 / 60 });
    agent = await connectModernHttp(server.url, server.token('acme', 'bot'));
    workspaceId = (await agent.call('workspace_create', { name: 'idle' })).structured!.id as string;
    await agent.call('file_write', { workspace: 'idle', path: 'a.fake', content: 'one\n' });
  });

  afterAll(async () => {
    await agent?.close();
    await server?.close();
  });

  const status = async () => ((await agent.call('code_status', { workspace: 'idle' })).structured!.servers as { id: string; state: string; open_documents: number }[])[0];

  it('stops a server nobody asked anything for a while, releases the watcher, and starts it again on the next request', async () => {
    expect((await agent.call('code_hover', { workspace: 'idle', path: 'a.fake', line: 1, column: 1 })).text).toBe('open: a.fake v1');
    expect(await status()).toMatchObject({ id: 'fake', state: 'ready', open_documents: 1 });
    expect(server.app.watchers.state(workspaceId)).toEqual({ watching: true });

    await expect.poll(async () => (await status())?.state, { timeout: 15_000, interval: 250 }).toBe('stopped');
    await expect.poll(() => server.app.watchers.state(workspaceId).watching, { timeout: 15_000, interval: 250 }).toBe(false);

    // Changed while nobody watched: the restarted server opens the file as it is now.
    await agent.call('file_write', { workspace: 'idle', path: 'a.fake', content: 'one, changed\n' });
    expect((await agent.call('code_hover', { workspace: 'idle', path: 'a.fake', line: 1, column: 1 })).text).toBe('open: a.fake v1');
    expect(server.app.languageServers.of(workspaceId)[0]!.documentText('a.fake')).toBe('one, changed\n');
    expect(server.app.watchers.state(workspaceId)).toEqual({ watching: true });
  }, 60_000);
});
