/**
 * Terminal viewers are told the terminal ended (issue 13, point 2): after `terminal_close`,
 * or `exit` in the shell, a `/ws/terminals/:id` socket gets any last output, then a close
 * (1000) whose reason says how the terminal ended. Driven by the v2 MCP client and `ws`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { watch } from '../helpers/terminal-viewer.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe('terminal viewers when the terminal ends', () => {
  let server: TestServer;
  let agent: McpClient;
  let token: string;

  beforeAll(async () => {
    server = await startTestServer();
    token = server.token('acme', 'bot');
    agent = await connectModernHttp(server.url, token);
    await agent.call('workspace_create', { name: 'w' });
  });
  afterAll(async () => {
    await agent?.close();
    await server?.close();
  });

  /** A bash terminal at its first prompt. */
  const openShell = async () => {
    const id = (await agent.call('terminal_open', { shell: '/bin/bash' })).structured!.id as string;
    expect((await agent.call('terminal_read', { id, wait_for: '[$#] $', timeout_s: 10 })).structured).toMatchObject({ matched: true });
    return id;
  };

  const openWatched = async () => {
    const id = await openShell();
    const viewer = watch(`ws://${server.url.host}/ws/terminals/${id}?token=${token}`);
    await new Promise((resolve) => viewer.socket.on('open', resolve));
    return { id, viewer };
  };

  it('exit in the shell: the last output, then close 1000 with the exit code', async () => {
    const { id, viewer } = await openWatched();
    await agent.call('terminal_write', { id, input: 'echo "last ""words"; exit 3', keys: ['enter'] });
    expect(await viewer.closed).toEqual({ code: 1000, reason: 'terminal ended: the program exited, exit 3' });
    expect(viewer.received()).toContain('last words');
  });

  it('terminal_close: close 1000, saying it was closed', async () => {
    const { id, viewer } = await openWatched();
    await agent.call('terminal_write', { id, input: 'echo "before ""close"', keys: ['enter'] });
    await expect.poll(() => viewer.received(), { timeout: 5000 }).toContain('before close');
    expect((await agent.call('terminal_close', { id })).isError).toBe(false);
    const closed = await viewer.closed;
    expect(closed.code).toBe(1000);
    expect(closed.reason).toMatch(/^terminal ended: closed/);
  });

  it('a viewer arriving after the program exited gets the output, then the close at once', async () => {
    const id = await openShell();
    await agent.call('terminal_write', { id, input: 'echo "gone ""soon"; exit 0', keys: ['enter'] });
    await expect.poll(async () => (await agent.call('terminal_read', { id })).structured?.exited, { timeout: 10_000 }).toBe(true);
    const late = watch(`ws://${server.url.host}/ws/terminals/${id}?token=${token}`);
    expect(await late.closed).toEqual({ code: 1000, reason: 'terminal ended: the program exited, exit 0' });
    expect(late.received()).toContain('gone soon');
  });
});
