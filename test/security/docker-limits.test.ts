import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const IMAGE = 'codebuddy-workspace:latest';

// Row 11 of the hostile review: an agent chose the bridge network or any image on the
// engine, and wrote 1 GiB into a workspace with nothing to stop it.

const engineReady = spawnSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' }).status === 0;
if (!engineReady && !process.env.CI) console.warn(`no Docker engine with ${IMAGE} here: the Docker parts of docker-limits are not run (see .ci/run)`);
const canMount = process.getuid?.() === 0 && existsSync('/dev/loop-control');
if (!canMount && !process.env.CI) console.warn('not root, or no loop devices: the workspace disk limit tests are not run');

const mounted = (path: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((line) => line.split(' ')[4] === path);

describe.runIf(engineReady || process.env.CI)('Docker workspace network and image', () => {
  let server: TestServer;
  let agent: McpClient;
  let admin: McpClient;

  beforeAll(async () => {
    server = await startTestServer({ dockerPidsLimit: 64, dockerMemoryBytes: 256 * 1024 * 1024 });
    agent = await connectModernHttp(server.url, server.token('acme', 'bot', 'agent'));
    admin = await connectModernHttp(server.url, server.token('acme', 'root', 'admin'));
  }, 60_000);

  afterAll(async () => {
    for (const name of ['netted', 'other-image']) await admin?.call('workspace_delete', { workspace: name }).catch(() => undefined);
    await Promise.all([agent?.close(), admin?.close()]);
    await server?.close();
  });

  it('refuses an agent the network and an image outside the allowlist, and lets an admin choose them', async () => {
    const network = await agent.call('workspace_create', { name: 'netted', runtime: 'docker', limits: { network: true } });
    expect(network).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
    expect(network.text).toContain('admin');
    const image = await agent.call('workspace_create', { name: 'other-image', runtime: 'docker', image: 'busybox:latest' });
    expect(image).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
    expect(image.text).toContain('dockerAllowedImages');
    // Nothing was left behind by the refusals.
    expect(((await agent.call('workspace_list')).structured!.workspaces as unknown[]).length).toBe(0);

    const allowed = await admin.call('workspace_create', { name: 'netted', runtime: 'docker', limits: { network: true } });
    expect(allowed.structured).toMatchObject({ runtime: 'docker', status: 'ready' });
    // An admin may name an image; a missing one is then a plain not-found, not a refusal.
    expect(await admin.call('workspace_create', { name: 'other-image', runtime: 'docker', image: 'no-such-image:1' })).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
  }, 60_000);

  it('lets an agent have the default image named explicitly', async () => {
    const created = await agent.call('workspace_create', { name: 'plain', runtime: 'docker', image: IMAGE });
    expect(created.structured).toMatchObject({ status: 'ready' });
    await agent.call('workspace_delete', { workspace: 'plain' });
  }, 60_000);
});

describe.runIf(canMount || process.env.CI)('workspace disk limit', () => {
  let server: TestServer;
  let agent: McpClient;

  beforeAll(async () => {
    server = await startTestServer({ workspaceDiskBytes: 2 * 1024 * 1024 * 1024, dockerPidsLimit: 64, dockerMemoryBytes: 256 * 1024 * 1024 });
    agent = await connectModernHttp(server.url, server.token('acme', 'bot', 'agent'));
  });

  afterAll(async () => {
    await agent?.close();
    await server?.close();
  });

  it('creates a workspace with its own disk quickly, and removes it on delete', async () => {
    const started = performance.now();
    const created = await agent.call('workspace_create', { name: 'timed' });
    const elapsed = performance.now() - started;
    console.log(`workspace_create with a 2 GiB disk: ${elapsed.toFixed(1)} ms (over MCP HTTP)`);
    expect(created.structured).toMatchObject({ disk_mb: 2048 });
    const root = created.structured!.root as string;
    expect(mounted(root)).toBe(true);
    expect(readdirSync(root)).toEqual([]);
    expect(elapsed).toBeLessThan(2000);
    expect(await agent.call('workspace_create', { name: 'too-big', limits: { disk_mb: 4096 } })).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });

    await agent.call('workspace_delete', { workspace: 'timed' });
    expect(mounted(root)).toBe(false);
    expect(existsSync(root)).toBe(false);
    expect(readdirSync(join(server.dataDir, 'disks', 'acme'))).toEqual([]);
  });

  it('mounts a workspace disk again at start when its mount is gone (a reboot)', async () => {
    const root = (await agent.call('workspace_create', { name: 'rebooted', limits: { disk_mb: 16 } })).structured!.root as string;
    await agent.call('file_write', { workspace: 'rebooted', path: 'kept.txt', content: 'on the disk\n' });
    spawnSync('umount', [root]);
    expect(existsSync(join(root, 'kept.txt'))).toBe(false);
    await server.app.workspaces.reconcile();
    expect(mounted(root)).toBe(true);
    expect(readFileSync(join(root, 'kept.txt'), 'utf8')).toBe('on the disk\n');
    await agent.call('workspace_delete', { workspace: 'rebooted' });
  });

  it('fails a file_write past the limit with E_DISK_FULL and leaves nothing partial; exec gets ENOSPC', async () => {
    const created = await agent.call('workspace_create', { name: 'small', limits: { disk_mb: 32 } });
    expect(created.structured).toMatchObject({ disk_mb: 32 });
    const root = created.structured!.root as string;

    // A command fills the disk first: it gets ENOSPC like on any full disk.
    const dd = await agent.call('exec', { workspace: 'small', command: 'head -c 50000000 /dev/zero > fill.bin; echo "exit $?"' });
    expect(dd.structured!.stderr).toMatch(/No space left on device/);
    expect(dd.structured!.stdout).toContain('exit 1');

    const big = await agent.call('file_write', { workspace: 'small', path: 'big.txt', content: 'x'.repeat(8 * 1024 * 1024) });
    expect(big).toMatchObject({ isError: true, code: 'E_DISK_FULL' });
    expect(big.text).toContain('disk limit');
    // Neither the file nor the temporary file of the atomic write remains.
    expect(readdirSync(root)).toEqual(['fill.bin']);

    await agent.call('exec', { workspace: 'small', command: 'rm -f fill.bin' });
    expect((await agent.call('file_write', { workspace: 'small', path: 'fits.txt', content: 'fine\n' })).isError).toBe(false);
    await agent.call('workspace_delete', { workspace: 'small' });
  }, 60_000);

  it.runIf(engineReady || process.env.CI)('holds in a Docker workspace too: the container writes to the same disk', async () => {
    const created = await agent.call('workspace_create', { name: 'boxed', runtime: 'docker', limits: { disk_mb: 32 } });
    expect(created.text).not.toMatch(/^E_/);
    expect(created.structured).toMatchObject({ status: 'ready', disk_mb: 32 });
    const dd = await agent.call('exec', { workspace: 'boxed', command: 'dd if=/dev/zero of=fill.bin bs=1M count=64 2>&1; echo "exit $?"' });
    expect(dd.structured!.stdout).toMatch(/No space left on device/);
    const write = await agent.call('file_write', { workspace: 'boxed', path: 'more.txt', content: 'y'.repeat(8 * 1024 * 1024) });
    expect(write).toMatchObject({ isError: true, code: 'E_DISK_FULL' });
    await agent.call('workspace_delete', { workspace: 'boxed' });
  }, 120_000);
});
