import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startServeProcess } from '../helpers/serve-process.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/test-server.js';
import { watch } from '../helpers/terminal-viewer.js';
import { processesWith } from '../helpers/process-table.js';

const run = promisify(execFile);


describe('terminals', () => {
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

  /** Opens a shell and waits for its first prompt, as an agent should before typing. */
  const open = async (args: Record<string, unknown> = {}) => {
    const id = (await agent.call('terminal_open', { shell: '/bin/bash', ...args })).structured!.id as string;
    expect((await agent.call('terminal_read', { id, wait_for: '[$#] $', timeout_s: 10 })).structured).toMatchObject({ matched: true });
    return id;
  };

  it('writes, waits for output, and reads only what is new since a cursor', async () => {
    const id = await open();
    await agent.call('terminal_write', { id, input: 'echo "hel""lo"', keys: ['enter'] });
    const first = await agent.call('terminal_read', { id, wait_for: '^hello$', timeout_s: 10 });
    expect(first.structured).toMatchObject({ matched: true, exited: false });
    expect(first.structured!.text).toMatch(/^hello$/m);
    await agent.call('terminal_write', { id, input: 'echo second', keys: ['enter'] });
    // Up to the prompt that follows, so that nothing of this command is still to come.
    const second = await agent.call('terminal_read', { id, since: first.structured!.next, wait_for: '^second\\n[^\\n]*[$#] $', timeout_s: 10 });
    expect(second.structured!.text).not.toMatch(/^hello$/m);
    expect(second.structured!.text).toMatch(/^second$/m);
    const nothing = await agent.call('terminal_read', { id, wait_for: 'never-printed', since: second.structured!.next, timeout_s: 0.5 });
    expect(nothing.structured).toMatchObject({ matched: false, text: '' });
    expect(nothing.text).toContain('wait_for did not match before the timeout');
  });

  it('renders the screen an interactive program draws', async () => {
    const id = await open({ cols: 40, rows: 10 });
    // The words are split where the command is typed, so only the program's drawing matches.
    await agent.call('terminal_write', { id, input: "clear; printf '\\033[1;1HTOP-''LEFT\\033[5;10HMID''DLE'; sleep 30", keys: ['enter'] });
    await agent.call('terminal_read', { id, wait_for: 'MIDDLE', timeout_s: 10 });
    const screen = await agent.call('terminal_read', { id, mode: 'screen' });
    const lines = (screen.structured!.text as string).split('\n');
    expect(lines[0]).toBe('TOP-LEFT');
    expect(lines[4]).toBe(`${' '.repeat(9)}MIDDLE`);
    expect(screen.structured!.cursor).toEqual({ row: 4, col: 15 });
  });

  it('interrupts with ctrl-c, resizes, and reports the exit of its program', async () => {
    const id = await open();
    await agent.call('terminal_write', { id, input: 'sleep 94.04', keys: ['enter'] });
    await expect.poll(() => processesWith('sleep 94.04'), { timeout: 5000 }).toBeGreaterThan(0);
    await agent.call('terminal_write', { id, keys: ['ctrl-c'] });
    await expect.poll(() => processesWith('sleep 94.04'), { timeout: 5000 }).toBe(0);
    await agent.call('terminal_resize', { id, cols: 77, rows: 22 });
    const since = (await agent.call('terminal_read', { id })).structured!.next;
    await agent.call('terminal_write', { id, input: 'stty size', keys: ['enter'] });
    expect((await agent.call('terminal_read', { id, since, wait_for: '^22 77$', timeout_s: 10 })).structured).toMatchObject({ matched: true });
    await agent.call('terminal_write', { id, input: 'exit 3', keys: ['enter'] });
    const ended = await agent.call('terminal_read', { id, wait_for: 'never', timeout_s: 10 });
    expect(ended.structured).toMatchObject({ exited: true, exit_code: 3 });
    expect(await agent.call('terminal_write', { id, input: 'x' })).toMatchObject({ isError: true, code: 'E_CONFLICT' });
  });

  it('lists and closes terminals, killing what they run', async () => {
    const id = await open();
    await agent.call('terminal_write', { id, input: 'sleep 95.05 &', keys: ['enter'] });
    await expect.poll(() => processesWith('sleep 95.05'), { timeout: 5000 }).toBeGreaterThan(0);
    expect((await agent.call('terminal_list', {})).text).toContain(`${id} /bin/bash open`);
    expect((await agent.call('terminal_close', { id })).structured).toMatchObject({ status: 'closed', close_reason: 'closed' });
    await expect.poll(() => processesWith('sleep 95.05'), { timeout: 5000 }).toBe(0);
    expect(await agent.call('terminal_read', { id })).toMatchObject({ isError: true, code: 'E_CONFLICT' });
  });

  it('ends the terminals of a deleted workspace, and what they run', async () => {
    await agent.call('workspace_create', { name: 'doomed' });
    const id = (await agent.call('terminal_open', { shell: '/bin/bash', workspace: 'doomed' })).structured!.id as string;
    expect((await agent.call('terminal_read', { id, wait_for: '[$#] $', timeout_s: 10 })).structured).toMatchObject({ matched: true });
    await agent.call('terminal_write', { id, input: 'sleep 96.06 &', keys: ['enter'] });
    await expect.poll(() => processesWith('sleep 96.06'), { timeout: 5000 }).toBeGreaterThan(0);
    expect((await agent.call('workspace_delete', { workspace: 'doomed' })).isError).toBe(false);
    await expect.poll(() => processesWith('sleep 96.06'), { timeout: 5000 }).toBe(0);
    expect(await agent.call('terminal_write', { id, input: 'x' })).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
  });

  it("never lets another tenant read, type into or close a terminal", async () => {
    const id = await open();
    const outsider = await connectModernHttp(server.url, server.token('globex', 'eve'));
    for (const [tool, args] of [
      ['terminal_read', { id }],
      ['terminal_write', { id, input: 'echo pwned', keys: ['enter'] }],
      ['terminal_resize', { id, cols: 30, rows: 10 }],
      ['terminal_close', { id }],
    ] as const) {
      expect(await outsider.call(tool, args)).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
    }
    await outsider.close();
    expect((await agent.call('terminal_read', { id })).structured).toMatchObject({ exited: false });
  });

  it('lets several humans watch a terminal live over WebSocket, authenticated and tenant-scoped', async () => {
    const id = await open();
    const base = `ws://${server.url.host}/ws/terminals/${id}`;
    const viewers = [watch(`${base}?token=${token}`), watch(`${base}?token=${token}`)];
    await Promise.all(viewers.map(({ socket }) => new Promise((resolve) => socket.on('open', resolve))));
    await agent.call('terminal_write', { id, input: 'echo "watched ""live"', keys: ['enter'] });
    for (const viewer of viewers) await expect.poll(() => viewer.received(), { timeout: 5000 }).toContain('watched live');

    const stranger = watch(`${base}?token=${server.token('globex', 'eve')}`);
    expect(await stranger.closed).toMatchObject({ code: 4404 });
    const anonymous = watch(base);
    expect(await anonymous.closed).toMatchObject({ code: 4401 });
    for (const { socket } of viewers) socket.close();
  });

  // Issue 13, point 2: viewers are told the terminal ended, after its last output.
  const watched = async () => {
    const id = await open();
    const viewer = watch(`ws://${server.url.host}/ws/terminals/${id}?token=${token}`);
    await new Promise((resolve) => viewer.socket.on('open', resolve));
    return { id, viewer };
  };

  it('exit in the shell: a viewer gets the last output, then close 1000 with the exit code', async () => {
    const { id, viewer } = await watched();
    await agent.call('terminal_write', { id, input: 'echo "last ""words"; exit 3', keys: ['enter'] });
    expect(await viewer.closed).toEqual({ code: 1000, reason: 'terminal ended: the program exited, exit 3' });
    expect(viewer.received()).toContain('last words');
  });

  it('terminal_close: a viewer is closed with 1000, saying it was closed', async () => {
    const { id, viewer } = await watched();
    await agent.call('terminal_write', { id, input: 'echo "before ""close"', keys: ['enter'] });
    await expect.poll(() => viewer.received(), { timeout: 5000 }).toContain('before close');
    expect((await agent.call('terminal_close', { id })).isError).toBe(false);
    const closed = await viewer.closed;
    expect(closed.code).toBe(1000);
    expect(closed.reason).toMatch(/^terminal ended: closed/);
  });

  it('a viewer arriving after the program exited gets the output, then the close at once', async () => {
    const id = await open();
    await agent.call('terminal_write', { id, input: 'echo "gone ""soon"; exit 0', keys: ['enter'] });
    await expect.poll(async () => (await agent.call('terminal_read', { id })).structured?.exited, { timeout: 10_000 }).toBe(true);
    const late = watch(`ws://${server.url.host}/ws/terminals/${id}?token=${token}`);
    expect(await late.closed).toEqual({ code: 1000, reason: 'terminal ended: the program exited, exit 0' });
    expect(late.received()).toContain('gone soon');
  });
});

describe('terminals across a server restart', () => {
  it('reports the terminals of a killed server closed', async () => {
    const dataDir = tempDir();
    const token = (await run(process.execPath, [CLI, '--data-dir', dataDir, 'token', 'create', '--tenant', 'acme', '--user', 'bot'])).stdout.trim();
    const start = () => startServeProcess(dataDir);

    const first = await start();
    const agent = await connectModernHttp(first.url, token);
    await agent.call('workspace_create', { name: 'w' });
    const id = (await agent.call('terminal_open', { shell: '/bin/sh' })).structured!.id as string;
    await agent.close();
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.on('exit', resolve));

    const second = await start();
    const again = await connectModernHttp(second.url, token);
    expect((await again.call('terminal_list', {})).structured!.terminals).toEqual([expect.objectContaining({ id, status: 'closed', close_reason: 'the server restarted' })]);
    expect(await again.call('terminal_read', { id })).toMatchObject({ isError: true, code: 'E_CONFLICT' });
    await again.close();
    second.child.kill('SIGTERM');
  });
});
