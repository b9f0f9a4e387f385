import { execFile, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startServeProcess } from '../helpers/serve-process.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/test-server.js';

const run = promisify(execFile);
const IMAGE = 'codebuddy-workspace:latest';

// A real engine and the workspace image, or a printed reason; CI (.ci/run) provides both, and never skips.
const engineReady = spawnSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' }).status === 0;
if (!engineReady && !process.env.CI) console.warn(`no Docker engine with ${IMAGE} here: the Docker workspace tests are not run (see .ci/run)`);

describe.runIf(engineReady || process.env.CI)('Docker workspaces', () => {
  let server: TestServer;
  let agent: McpClient;
  let root: string;
  let containerId: string;

  beforeAll(async () => {
    server = await startTestServer({ dockerPidsLimit: 64, dockerMemoryBytes: 256 * 1024 * 1024, dockerCpus: 1 });
    agent = await connectModernHttp(server.url, server.token('acme', 'bot'));
    const created = await agent.call('workspace_create', { name: 'box', runtime: 'docker' });
    expect(created.structured).toMatchObject({ runtime: 'docker', status: 'ready', container_id: expect.any(String) });
    root = created.structured!.root as string;
    containerId = created.structured!.container_id as string;
  }, 120_000);

  afterAll(async () => {
    await agent?.call('workspace_delete', { workspace: 'box' }).catch(() => undefined);
    await agent?.close();
    await server?.close();
  });

  it('runs commands in the container as a non-root user, on the same files as the host', async () => {
    await agent.call('file_write', { path: 'from-host.txt', content: 'written by the server\n' });
    const inside = await agent.call('exec', { command: 'id -u; cat from-host.txt; echo made inside > from-container.txt; pwd' });
    expect(inside.structured).toMatchObject({ exit_code: 0, stdout: '1000\nwritten by the server\n/workspace\n' });
    expect((await agent.call('file_read', { path: 'from-container.txt' })).text).toBe('1\tmade inside');
    expect(statSync(join(root, 'from-host.txt')).uid).toBe(1000);
  });

  it('is locked down: read-only root, no capabilities, no new privileges, no network', async () => {
    const probe = await agent.call('exec', {
      command: "touch /etc/x 2>&1 | tail -1; touch /tmp/ok && echo tmp-writable; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; ls /sys/class/net",
    });
    const out = probe.structured!.stdout as string;
    expect(out).toContain('Read-only file system');
    expect(out).toContain('tmp-writable');
    expect(out).toMatch(/CapEff:\s+0000000000000000/);
    expect(out).toMatch(/NoNewPrivs:\s+1/);
    expect(out.trim().split('\n').at(-1)).toBe('lo');
  });

  it('bounds hostile workloads, and the server keeps serving meanwhile', async () => {
    const bomb = agent.call('exec', { command: 'bomb() { bomb | bomb & }; bomb', timeout_s: 3 });
    expect((await agent.call('file_list', {})).isError).toBe(false);
    const bombed = await bomb;
    expect(bombed.isError).toBe(false);
    expect(bombed.structured!.timed_out === true || (bombed.structured!.stderr as string).includes('fork')).toBe(true);

    const hog = await agent.call('exec', { command: ['node', '-e', 'const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1));'], timeout_s: 20 });
    expect(hog.structured).toMatchObject({ limit: 'memory', exit_code: null });

    const flood = await agent.call('exec', { command: 'yes', timeout_s: 2, max_output: 4096 });
    expect(flood.structured).toMatchObject({ timed_out: true, truncated: true });

    const sleeper = await agent.call('exec', { command: 'sleep 1000', timeout_s: 1 });
    expect(sleeper.structured).toMatchObject({ timed_out: true });
    const left = await agent.call('exec', { command: 'ps -eo args | grep -c "^sleep 1000" || true' });
    expect((left.structured!.stdout as string).trim()).toBe('0');
  });

  it("runs a project's tests in the container", async () => {
    await agent.call('file_write', { path: 'project/package.json', content: JSON.stringify({ name: 'demo', type: 'module', scripts: { test: 'node --test' } }) });
    await agent.call('file_write', { path: 'project/sum.js', content: 'export const sum = (a, b) => a + b;\n' });
    await agent.call('file_write', {
      path: 'project/sum.test.js',
      content: "import { test } from 'node:test';\nimport assert from 'node:assert';\nimport { sum } from './sum.js';\ntest('adds', () => assert.equal(sum(2, 3), 5));\n",
    });
    const tested = await agent.call('exec', { command: ['node', '--test'], cwd: 'project', timeout_s: 60 });
    expect(tested.structured).toMatchObject({ exit_code: 0 });
    expect(tested.structured!.stdout).toMatch(/# pass 1/);
  });

  it('drives an interactive program in a container terminal while a human watches live', async () => {
    const id = (await agent.call('terminal_open', { shell: '/bin/bash' })).structured!.id as string;
    await agent.call('terminal_read', { id, wait_for: '[$#] $', timeout_s: 15 });
    const viewer = new WebSocket(`ws://${server.url.host}/ws/terminals/${id}?token=${server.token('acme', 'bot')}`);
    let watched = '';
    viewer.on('message', (data) => (watched += data.toString()));
    await new Promise((resolve) => viewer.on('open', resolve));

    await agent.call('terminal_write', { id, input: 'python3 -q', keys: ['enter'] });
    expect((await agent.call('terminal_read', { id, wait_for: '>>> $', timeout_s: 15 })).structured).toMatchObject({ matched: true });
    await agent.call('terminal_write', { id, input: 'print(6 * 7, __import__("os").getuid())', keys: ['enter'] });
    expect((await agent.call('terminal_read', { id, wait_for: '^42 1000$', timeout_s: 15 })).structured).toMatchObject({ matched: true });
    await expect.poll(() => watched, { timeout: 5000 }).toContain('42 1000');
    await agent.call('terminal_write', { id, keys: ['ctrl-d'] });
    viewer.close();
    await agent.call('terminal_close', { id });
  });

  it('stops and starts the container; a stopped workspace says so', async () => {
    expect((await agent.call('workspace_stop', {})).structured).toMatchObject({ status: 'stopped' });
    const refused = await agent.call('exec', { command: 'true' });
    expect(refused).toMatchObject({ isError: true, code: 'E_UNAVAILABLE', text: "E_UNAVAILABLE: workspace box's container is not running (stopped with workspace_stop); workspace_start restarts it" });
    expect((await agent.call('file_read', { path: 'from-host.txt' })).isError).toBe(false);
    expect((await agent.call('workspace_start', {})).structured).toMatchObject({ status: 'ready', container_id: containerId });
    expect((await agent.call('exec', { command: 'echo back' })).structured).toMatchObject({ stdout: 'back\n' });
  });
});

describe.runIf(engineReady || process.env.CI)('Docker workspaces across a server restart', () => {
  it('finds the same container after a SIGKILL, and marks a vanished one lost', async () => {
    const dataDir = tempDir();
    const token = (await run(process.execPath, [CLI, '--data-dir', dataDir, 'token', 'create', '--tenant', 'acme', '--user', 'bot'])).stdout.trim();
    const start = () => startServeProcess(dataDir);

    const first = await start();
    const agent = await connectModernHttp(first.url, token);
    const created = await agent.call('workspace_create', { name: 'kept', runtime: 'docker' });
    const doomed = await agent.call('workspace_create', { name: 'doomed', runtime: 'docker' });
    const terminal = (await agent.call('terminal_open', { workspace: 'kept', shell: '/bin/sh' })).structured!.id as string;
    await agent.close();
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.on('exit', resolve));
    // The other workspace's container disappears behind the server's back.
    await new Docker().getContainer(doomed.structured!.container_id as string).remove({ force: true });

    const second = await start();
    const again = await connectModernHttp(second.url, token);
    expect((await again.call('workspace_get', { workspace: 'kept' })).structured).toMatchObject({ status: 'ready', container_id: created.structured!.container_id });
    expect((await again.call('exec', { workspace: 'kept', command: 'echo still-here' })).structured).toMatchObject({ stdout: 'still-here\n' });
    expect((await again.call('workspace_get', { workspace: 'doomed' })).structured).toMatchObject({ status: 'lost' });
    const lost = await again.call('exec', { workspace: 'doomed', command: 'true' });
    expect(lost).toMatchObject({ isError: true, code: 'E_UNAVAILABLE', text: "E_UNAVAILABLE: workspace doomed's container is gone (removed while the server was down); workspace_start makes it a new one (the files are kept)" });
    expect((await again.call('terminal_list', { workspace: 'kept' })).structured!.terminals).toEqual([expect.objectContaining({ id: terminal, status: 'closed' })]);
    await again.call('workspace_delete', { workspace: 'kept' });
    await again.call('workspace_delete', { workspace: 'doomed' });
    await again.close();
    second.child.kill('SIGTERM');
  }, 180_000);
});
