import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { eventually, syncClient, type SyncClient } from '../helpers/sync-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** The per-credential cap on sync connections (syncMaxConnectionsPerCredential): one token cannot hold every socket. */
describe('sync connections per credential', () => {
  let server: TestServer;
  let agent: McpClient;
  const clients: SyncClient[] = [];
  const open = (room: string, token: string) => {
    const client = syncClient(server.url.host, room, token);
    clients.push(client);
    return client;
  };
  /** Whether a connection is let in (synced) or refused (closed first). */
  const outcome = (client: SyncClient) =>
    Promise.race([client.synced(30_000).then(() => 'synced' as const), client.closed.then((closed) => closed)]);

  beforeAll(async () => {
    server = await startTestServer({ localSandbox: 'off', allowUnsandboxed: true, syncMaxConnectionsPerCredential: 2, syncUnloadAfterMs: 100 });
    agent = await connectModernHttp(server.url, server.token('acme', 'agent-1'));
    await agent.call('workspace_create', { name: 'capped' });
    for (const name of ['a', 'b', 'c']) await agent.call('file_write', { workspace: 'capped', path: `${name}.txt`, content: `${name}\n` });
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await agent?.close();
    await server?.close();
  });

  it('refuses a credential its connection past the cap with 4429 and a reason, while another credential of the same user still connects', async () => {
    const token = server.token('acme', 'mallory');
    const first = open('capped/file/a.txt', token);
    const second = open('capped/file/b.txt', token);
    expect(await outcome(first)).toBe('synced');
    expect(await outcome(second)).toBe('synced');

    const third = open('capped/file/c.txt', token);
    expect(await outcome(third)).toEqual({ code: 4429, reason: 'at most 2 sync connections per credential are open at once; close one first' });
    // The refused client's room was never opened for it: the two others still sync.
    first.text.insert(0, 'x');
    await open('capped/file/a.txt', server.token('acme', 'mallory')).until((text) => text === 'xa\n');

    // Another token of the same user is another credential, with its own share.
    expect(await outcome(open('capped/file/c.txt', server.token('acme', 'mallory')))).toBe('synced');
  });

  it('gives the place back when a connection closes, and counts a refused room against nothing', async () => {
    const token = server.token('acme', 'trent');
    // Refused rooms (missing file) take no place.
    for (let i = 0; i < 3; i++) expect(await outcome(open('capped/file/missing.txt', token))).toMatchObject({ code: 4404 });
    const first = open('capped/file/a.txt', token);
    const second = open('capped/file/b.txt', token);
    expect(await outcome(first)).toBe('synced');
    expect(await outcome(second)).toBe('synced');
    first.destroy();
    // The server hears the close on its own time: try again until the place is free.
    await eventually(async () => {
      const again = open('capped/file/c.txt', token);
      const result = await outcome(again);
      if (result !== 'synced') again.destroy();
      return result === 'synced';
    }, 'a new connection once one closed', 30_000);
  });
});
