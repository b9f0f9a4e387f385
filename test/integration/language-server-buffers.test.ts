import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/principal.js';
import type { ManagedLanguageServer, PublishedDiagnostics } from '../../src/code/managed-language-server.js';
import type { Workspace } from '../../src/workspaces/workspace.js';
import { FAKE_SERVER } from '../helpers/fake-language-server.js';
import { eventually } from '../helpers/sync-clients.js';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/*
 * The pool's editor-buffer methods (showBuffer, releaseBuffer, bufferState, latestDiagnostics,
 * watchDiagnostics) on the fake server (test/helpers/fake-language-server.ts), which reports
 * the versions it was sent: what the LSP facade relies on, checked at the pool itself.
 */


describe('editor buffers in the language-server pool', () => {
  let server: TestServer;
  let agent: McpClient;
  let workspace: Workspace;
  let fake: ManagedLanguageServer;
  const principal: Principal = { tenantId: 'acme', userId: 'bot', role: 'agent' };
  const versions = async () => (await agent.call('code_hover', { workspace: 'buffers', path: 'b.fake', line: 1, column: 1 })).text;

  beforeAll(async () => {
    // Idle servers are stopped after a second here, so the test sees that held buffers keep theirs running.
    server = await startTestServer({ codeServers: [FAKE_SERVER], codeIdleStopMinutes: 1 / 60 });
    agent = await connectModernHttp(server.url, server.token('acme', 'bot'));
    await agent.call('workspace_create', { name: 'buffers' });
    await agent.call('file_write', { workspace: 'buffers', path: 'b.fake', content: 'disk\n' });
    workspace = server.app.workspaces.resolve(principal, 'buffers');
    fake = server.app.languageServers.server(workspace, server.app.languageServers.registry.get('fake')!);
  }, 60_000);

  afterAll(async () => {
    await agent?.close();
    await server?.close();
  });

  it('one version sequence: buffers become versions, the disk waits until the last holder lets go', async () => {
    const published: PublishedDiagnostics[] = [];
    const stop = fake.watchDiagnostics((p) => published.push(p));
    const connection = await fake.connect();
    const first = await fake.showBuffer(connection, 'b.fake', 'fake', 'one\n', 'editor-1', (shown) => shown.version);
    expect(first.sent).toBe(1);
    expect(fake.bufferState('b.fake')).toEqual({ version: 1, unsaved: true });
    // The same text from another holder sends nothing; another text is the next version.
    expect((await fake.showBuffer(connection, 'b.fake', 'fake', 'one\n', 'editor-2', () => undefined)).shown.version).toBe(1);
    expect((await fake.showBuffer(connection, 'b.fake', 'fake', 'two ERR\n', 'editor-2', () => undefined)).shown.version).toBe(2);
    await eventually(() => published.some((p) => p.version === 2), 'diagnostics of version 2', 30_000);
    expect(fake.latestDiagnostics('b.fake')).toEqual({ path: 'b.fake', version: 2, items: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 7 } }, severity: 1, message: 'two ERR' }] });

    // The disk changes: the server keeps the buffer; MCP answers are of it, and say so.
    await agent.call('file_write', { workspace: 'buffers', path: 'b.fake', content: 'disk again\n' });
    // (Not announced as a watched-file change either: an open document's text is the editors'.)
    expect(await versions()).toBe("open: b.fake v2\n[b.fake: answered on an editor's unsaved buffer (version 2), not the file on disk]");

    // Held buffers keep an idle server running.
    const pid = fake.pid;
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(fake.pid).toBe(pid);

    await fake.releaseBuffer('b.fake', 'editor-1');
    expect(fake.bufferState('b.fake')).toEqual({ version: 2, unsaved: true });
    await fake.releaseBuffer('b.fake', 'editor-2');
    expect(fake.bufferState('b.fake')).toBeUndefined();
    expect(await versions()).toMatch(/^open: b\.fake v3(;|$)/);
    stop();
    // Released, the server is idle again and stops.
    await eventually(() => fake.state === 'stopped', 'the idle server stops', 30_000);
  }, 60_000);
});
