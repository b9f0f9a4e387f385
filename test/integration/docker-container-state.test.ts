import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerSocketProxy } from '../helpers/docker-socket-proxy.js';
import { connectModernHttp, type McpClient, type ToolAnswer } from '../helpers/mcp-clients.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/test-server.js';

/*
 * A Docker workspace's container stopped, paused or removed behind the server's back (an
 * operator's `docker kill`/`pause`/`rm -f`), and the engine's event stream cut (as when the
 * engine restarts). The server talks to the real engine through a socket proxy the test can
 * take down; the operator's commands go to the engine directly, as an operator's would.
 */

const docker = promisify(execFile);
const IMAGE = 'codebuddy-workspace:latest';
const engineReady = spawnSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' }).status === 0;
if (!engineReady && !process.env.CI) console.warn(`no Docker engine with ${IMAGE} here: the container state tests are not run (see .ci/run)`);

/** How long a status may take to follow the engine: generous for a loaded machine; the figure seen is printed. */
const STATUS_BOUND_MS = 10_000;

describe.runIf(engineReady || process.env.CI)("a Docker workspace whose container changes behind the server's back", () => {
  let proxy: DockerSocketProxy;
  let server: TestServer;
  let agent: McpClient;
  let containerId: string;
  const workspace = 'box';

  beforeAll(async () => {
    proxy = new DockerSocketProxy(join(tempDir('codebuddy-docker-proxy-'), 'docker.sock'));
    await proxy.up();
    server = await startTestServer({ dockerSocket: proxy.path });
    agent = await connectModernHttp(server.url, server.token('acme', 'bot'));
    const created = await agent.call('workspace_create', { name: workspace, runtime: 'docker' });
    expect(created.structured, created.text).toMatchObject({ status: 'ready' });
    containerId = created.structured!.container_id as string;
    expect((await agent.call('file_write', { workspace, path: 'kept.txt', content: 'on the host\n' })).isError).toBe(false);
  }, 60_000);

  afterAll(async () => {
    await proxy?.up().catch(() => undefined);
    await agent?.call('workspace_delete', { workspace }).catch(() => undefined);
    await agent?.close();
    await server?.close();
    await proxy?.down();
  }, 60_000);

  const get = async () => (await agent.call('workspace_get', { workspace })).structured!;
  /** Polls workspace_get until the status is `status`; returns how long that took. */
  async function statusBecomes(status: string): Promise<number> {
    const started = Date.now();
    await expect.poll(async () => (await get()).status, { timeout: STATUS_BOUND_MS, interval: 50 }).toBe(status);
    return Date.now() - started;
  }
  function expectRetryable(answer: ToolAnswer, text: string): void {
    expect(answer).toMatchObject({ isError: true, code: 'E_UNAVAILABLE', text: `E_UNAVAILABLE: ${text}` });
    expect(answer.meta?.['codebuddy/error']).toMatchObject({ code: 'E_UNAVAILABLE', retryable: true, remedy: 'workspace_start' });
  }

  it('a container killed from outside: stopped at once, clear retryable errors, its terminal ended with the reason, files still served, back with workspace_start', async () => {
    const terminal = (await agent.call('terminal_open', { workspace, shell: '/bin/bash' })).structured!.id as string;
    const prompt = await agent.call('terminal_read', { id: terminal, wait_for: '[$#] $', timeout_s: 15 });
    expect(prompt.structured, prompt.text).toMatchObject({ matched: true });

    const running = agent.call('exec', { workspace, command: 'echo started; sleep 60' });
    await expect.poll(async () => (await docker('docker', ['top', containerId])).stdout, { timeout: 10_000, interval: 100 }).toContain('sleep 60');
    await docker('docker', ['kill', containerId]);
    const took = await statusBecomes('stopped');
    console.log(`docker kill → workspace_get says stopped after ${took} ms`);
    expect(await get()).toMatchObject({ status: 'stopped', status_reason: 'stopped outside CodeBuddy, exit 137' });

    const refused = "workspace box's container is not running (stopped outside CodeBuddy, exit 137); workspace_start restarts it";
    // The command it ran when it died: the container's end is the news, not a memory kill.
    const killed = await running;
    expect(killed).toMatchObject({ isError: true, code: 'E_UNAVAILABLE' });
    expect(killed.text).toMatch(/^E_UNAVAILABLE: workspace box's container is (not running \(stopped|gone \(removed) while the command ran\); workspace_start/);
    expectRetryable(await agent.call('exec', { workspace, command: 'true' }), refused);
    expectRetryable(await agent.call('terminal_open', { workspace }), refused);

    // The open terminal ended, and says why (whichever noticed first: its stream or the event).
    const read = await agent.call('terminal_read', { id: terminal, timeout_s: 0 });
    expect(read.structured).toMatchObject({ exited: true, ended: expect.stringMatching(/container is not running \(stopped .*\); workspace_start restarts it/) });
    expect(read.text).toMatch(/\[next \d+; ended: .*container is not running/);
    const typed = await agent.call('terminal_write', { id: terminal, input: 'echo hi', keys: ['enter'] });
    expect(typed).toMatchObject({ isError: true, code: 'E_CONFLICT' });
    expect(typed.text).toMatch(new RegExp(`^E_CONFLICT: terminal ${terminal}: it ended: .*container is not running .*workspace_start restarts it`));
    expect((await agent.call('terminal_list', { workspace })).structured!.terminals).toEqual([
      expect.objectContaining({ id: terminal, status: 'closed', close_reason: expect.stringMatching(/container is not running/) }),
    ]);

    // The files live on the host: the file tools keep serving them.
    expect((await agent.call('file_read', { workspace, path: 'kept.txt' })).text).toBe('1\ton the host');
    expect((await agent.call('file_write', { workspace, path: 'while-stopped.txt', content: 'x\n' })).isError).toBe(false);

    const started = await agent.call('workspace_start', { workspace });
    expect(started.structured).toMatchObject({ status: 'ready', container_id: containerId });
    expect(started.structured!.status_reason).toBeUndefined();
    expect((await agent.call('exec', { workspace, command: 'cat kept.txt while-stopped.txt' })).structured).toMatchObject({ exit_code: 0, stdout: 'on the host\nx\n' });
    const again = (await agent.call('terminal_open', { workspace, shell: '/bin/sh' })).structured!.id as string;
    await agent.call('terminal_write', { id: again, input: 'echo back-$((6*7))', keys: ['enter'] });
    expect((await agent.call('terminal_read', { id: again, wait_for: 'back-42', timeout_s: 15 })).structured).toMatchObject({ matched: true });
    await agent.call('terminal_close', { id: again });
  }, 60_000);

  it('a container paused from outside is stopped until workspace_start lets it run again', async () => {
    await docker('docker', ['pause', containerId]);
    await statusBecomes('stopped');
    expect(await get()).toMatchObject({ status_reason: 'paused outside CodeBuddy' });
    expectRetryable(await agent.call('exec', { workspace, command: 'true' }), "workspace box's container is not running (paused outside CodeBuddy); workspace_start restarts it");
    expect((await agent.call('workspace_start', { workspace })).structured).toMatchObject({ status: 'ready', container_id: containerId });
    expect((await agent.call('exec', { workspace, command: 'echo unpaused' })).structured).toMatchObject({ stdout: 'unpaused\n' });
  }, 30_000);

  it('a container removed from outside: lost, a clear error, and workspace_start makes a new one over the same files', async () => {
    await docker('docker', ['rm', '-f', containerId]);
    await statusBecomes('lost');
    expect(await get()).toMatchObject({ status_reason: 'removed outside CodeBuddy' });
    expectRetryable(await agent.call('exec', { workspace, command: 'true' }), "workspace box's container is gone (removed outside CodeBuddy); workspace_start makes it a new one (the files are kept)");
    const started = await agent.call('workspace_start', { workspace });
    expect(started.structured).toMatchObject({ status: 'ready' });
    expect(started.structured!.container_id).not.toBe(containerId);
    containerId = started.structured!.container_id as string;
    // Made as the first: the same user, the same lockdown, the same files.
    const inside = await agent.call('exec', { workspace, command: "id -u; cat kept.txt; grep -E '^NoNewPrivs' /proc/self/status" });
    expect(inside.structured).toMatchObject({ exit_code: 0, stdout: '1000\non the host\nNoNewPrivs:\t1\n' });
  }, 30_000);

  it('the event stream cut (engine restart): commands answer retryably meanwhile, and a kill in the gap is found once it follows again', async () => {
    await proxy.down();
    await docker('docker', ['kill', containerId]);
    // Nothing could tell the server: its status is stale, but commands fail clearly, not E_INTERNAL.
    expect((await get()).status).toBe('ready');
    const meanwhile = await agent.call('exec', { workspace, command: 'true' });
    expect(meanwhile).toMatchObject({ isError: true, code: 'E_UNAVAILABLE', text: "E_UNAVAILABLE: the Docker engine is not reachable: workspace box's container cannot be used until it is back; retry" });
    expect(meanwhile.meta?.['codebuddy/error']).toMatchObject({ retryable: true });

    await proxy.up();
    const took = await statusBecomes('stopped');
    console.log(`engine back → the kill made during the gap seen after ${took} ms`);
    expect(await get()).toMatchObject({ status_reason: 'stopped outside CodeBuddy, exit 137' });
    expect((await agent.call('workspace_start', { workspace })).structured).toMatchObject({ status: 'ready' });
    expect((await agent.call('exec', { workspace, command: 'echo followed' })).structured).toMatchObject({ stdout: 'followed\n' });
    // Following again: the next kill is seen from its event.
    await docker('docker', ['kill', containerId]);
    await statusBecomes('stopped');
  }, 40_000);
});
