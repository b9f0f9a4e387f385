/**
 * Row 2 of the hostile review, as it was attacked: a local-runtime command read the server's
 * environment through /proc/$PPID/environ (and with the JWT secret forged admin tokens), read
 * the SQLite file and other tenants' workspaces, could signal the server, and left its cgroup.
 * Every attack here runs through the real `exec` and terminal tools over HTTP MCP and must
 * fail; a policy's denied paths must stay denied to commands too.
 */
import { chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BubblewrapSandbox } from '../../src/workspaces/runtimes/bubblewrap-sandbox.js';
import { CLI, connectModernHttp, connectStdio, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/test-server.js';

const SECRET = `jwt-secret-that-must-never-leak-${process.pid}-abcdefghijklmnop`;
const OTHER_MARKER = `other-tenant-secret-${process.pid}`;
const sandbox = BubblewrapSandbox.detect();
const reason = 'unavailable' in sandbox ? sandbox.unavailable : '';
if (reason && !process.env.CI) console.warn(`sandbox tests skipped: ${reason}`);

describe.skipIf(reason !== '' && !process.env.CI)('the local sandbox holds', () => {
  let server: TestServer;
  let agent: McpClient;
  let root: string;
  let otherRoot: string;

  const sh = async (command: string) => {
    const answer = await agent.call('exec', { command, timeout_s: 20 });
    expect(answer.isError, answer.text).toBe(false);
    return answer.structured as { exit_code: number | null; stdout: string; stderr: string };
  };

  beforeAll(async () => {
    server = await startTestServer({ jwtSecret: SECRET });
    agent = await connectModernHttp(server.url, server.token('acme', 'bot'));
    root = (await agent.call('workspace_create', { name: 'w' })).structured!.root as string;
    const other = await connectModernHttp(server.url, server.token('globex', 'eve'));
    otherRoot = (await other.call('workspace_create', { name: 'secret' })).structured!.root as string;
    writeFileSync(join(otherRoot, 'secret.txt'), OTHER_MARKER);
    await other.close();
  });

  afterAll(async () => {
    await agent?.close();
    await server?.close();
  });

  it('runs as the workspace owner, never root or the server user, with no server environment', async () => {
    const run = await sh('id -u; cat /proc/$PPID/environ /proc/1/environ 2>/dev/null | tr "\\0" "\\n"; env');
    const uid = Number(run.stdout.split('\n')[0]);
    expect(uid).not.toBe(0);
    expect(uid).not.toBe(process.getuid!());
    expect(run.stdout).not.toContain(SECRET);
    // The server here is a vitest worker: its environment names VITEST; a command sees none of it.
    expect(run.stdout).not.toContain('VITEST');
  });

  it('cannot see the server process, the database, or another tenant’s workspace', async () => {
    const run = await sh(
      `ls /proc | grep -x ${process.pid}; kill -0 ${process.pid} && echo SIGNALLED; ` +
        `ls ${server.dataDir}; cat ${join(server.dataDir, 'codebuddy.db')} | head -c 16; ` +
        `cat ${join(otherRoot, 'secret.txt')}; ls ${otherRoot}; echo done`,
    );
    expect(run.stdout).not.toContain('SIGNALLED');
    expect(run.stdout).not.toContain('SQLite format');
    expect(run.stdout).not.toContain(OTHER_MARKER);
    expect(run.stdout).not.toContain('secret.txt');
    expect(run.stdout.split('\n')).not.toContain(String(process.pid));
    expect(run.stdout).toContain('done');
  });

  it('writes only its own workspace: the host is read-only and the cgroup files are not writable', async () => {
    const run = await sh(
      'echo inside > mine.txt; touch /usr/cb-escape /etc/cb-escape 2>/dev/null && echo WROTE-HOST; ' +
        'for f in /sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/codebuddy/cgroup.procs $(cat /proc/self/cgroup | sed "s|^0::|/sys/fs/cgroup|")/cgroup.procs; do ' +
        '  echo $$ 2>/dev/null > "$f" && echo LEFT-CGROUP; done; echo done',
    );
    expect(run.stdout).not.toContain('WROTE-HOST');
    expect(run.stdout).not.toContain('LEFT-CGROUP');
    expect(run.stdout).toContain('done');
    expect(existsSync('/usr/cb-escape') || existsSync('/etc/cb-escape')).toBe(false);
    expect(readFileSync(join(root, 'mine.txt'), 'utf8')).toBe('inside\n');
  });

  it('lets file tools follow an absolute link a command made to /workspace/…, and nothing beside it', async () => {
    await sh('ln -s /workspace/mine.txt abs-link; ln -s /workspacex/mine.txt near-link');
    expect((await agent.call('file_read', { path: 'abs-link' })).structured).toMatchObject({ content: 'inside' });
    expect(await agent.call('file_read', { path: 'near-link' })).toMatchObject({ isError: true, code: 'E_PATH_OUTSIDE_WORKSPACE' });
  });

  it('has no network: the server’s own loopback port is unreachable', async () => {
    const port = server.url.port;
    const run = await sh(`bash -c 'echo > /dev/tcp/127.0.0.1/${port}' 2>&1 && echo CONNECTED; ip -o link 2>/dev/null | wc -l; echo done`);
    expect(run.stdout).not.toContain('CONNECTED');
    expect(run.stdout).toContain('done');
  });

  it('keeps a terminal in the same sandbox', async () => {
    const id = (await agent.call('terminal_open', { shell: '/bin/bash' })).structured!.id as string;
    await agent.call('terminal_write', { id, input: `cat /proc/$PPID/environ; cat ${join(otherRoot, 'secret.txt')}; id -u; echo END-$((6*7))`, keys: ['enter'] });
    const read = await agent.call('terminal_read', { id, wait_for: '^END-42', timeout_s: 10 });
    expect(read.structured).toMatchObject({ matched: true });
    expect(read.text).not.toContain(SECRET);
    expect(read.text).not.toContain(OTHER_MARKER);
    expect(read.text).not.toMatch(/^0$/m);
    await agent.call('terminal_close', { id });
  });

  it('masks what a deny rule names: a command can neither read nor write it', async () => {
    mkdirSync(join(root, 'secrets'));
    writeFileSync(join(root, 'secrets', 'key.pem'), 'PRIVATE');
    chownSync(join(root, 'secrets'), 61000, 61000);
    chownSync(join(root, 'secrets', 'key.pem'), 61000, 61000);
    const admin = await connectModernHttp(server.url, server.token('acme', 'boss', 'admin'));
    const set = await admin.call('policy_set', { workspace: 'w', preset: 'trusted', rules: [{ paths: ['.env', 'secrets/**', 'secrets'], decision: 'deny' }] });
    expect(set.isError, set.text).toBe(false);
    await admin.close();

    const run = await sh('echo TOKEN=stolen > .env 2>/dev/null && echo WROTE-ENV; cat secrets/key.pem 2>/dev/null; rm -rf secrets 2>/dev/null; echo x > secrets/new 2>/dev/null && echo WROTE-SECRETS; echo done');
    expect(run.stdout, run.stderr).not.toContain('WROTE-ENV');
    expect(run.stdout).not.toContain('PRIVATE');
    expect(run.stdout).not.toContain('WROTE-SECRETS');
    expect(run.stdout, run.stderr).toContain('done');
    expect(readFileSync(join(root, 'secrets', 'key.pem'), 'utf8')).toBe('PRIVATE');
    // The stand-in the mask was mounted on is gone again.
    expect(existsSync(join(root, '.env'))).toBe(false);
  });

  it('masks a base-name glob at any depth', async () => {
    const admin = await connectModernHttp(server.url, server.token('acme', 'boss', 'admin'));
    expect((await admin.call('policy_set', { workspace: 'w', preset: 'trusted', rules: [{ paths: ['*.pem'], decision: 'deny' }] })).isError).toBe(false);
    await admin.close();
    await sh('mkdir -p a/b && echo KEY > a/b/c.pem');
    const run = await sh('cat a/b/c.pem 2>/dev/null; echo stolen > a/b/c.pem 2>/dev/null && echo WROTE; echo done');
    expect(run.stdout).toBe('done\n');
    expect(readFileSync(join(root, 'a', 'b', 'c.pem'), 'utf8')).toBe('KEY\n');
  });

  it('masks only what a rule denies to commands: a rule about file_delete alone hides nothing', async () => {
    const admin = await connectModernHttp(server.url, server.token('acme', 'boss', 'admin'));
    const set = await admin.call('policy_set', { workspace: 'w', preset: 'trusted', rules: [{ operation: 'file_delete', paths: ['**'], decision: 'deny' }] });
    expect(set.isError, set.text).toBe(false);
    await admin.close();
    const run = await sh('cat mine.txt && echo more >> mine.txt && echo done');
    expect(run.stdout).toBe('inside\ndone\n');
  });
});

describe.skipIf(reason !== '' && !process.env.CI)('an adopted directory', () => {
  it("runs stdio's commands as the directory's owner, who also owns what the file tools write", async () => {
    const dataDir = tempDir('codebuddy-data-');
    const project = tempDir('codebuddy-project-');
    chownSync(project, 4321, 4321);
    const client = await connectStdio(['--data-dir', dataDir, 'serve', '--stdio', '--workspace', project]);
    try {
      const run = await client.call('exec', { command: 'id -u; echo made > by-command.txt' });
      expect(run.isError, run.text).toBe(false);
      expect((run.structured!.stdout as string).split('\n')[0]).toBe('4321');
      expect((await client.call('file_write', { path: 'sub/by-tool.txt', content: 'x\n' })).isError).toBe(false);
      for (const path of ['by-command.txt', 'sub', 'sub/by-tool.txt']) expect(statSync(join(project, path)).uid, path).toBe(4321);
    } finally {
      await client.close();
    }
  });

  it('gives a directory adopted while commands were unsandboxed its owner once they are', async () => {
    const dataDir = tempDir('codebuddy-data-');
    const project = tempDir('codebuddy-project-');
    chownSync(project, 4322, 4322);
    const args = ['--data-dir', dataDir, 'serve', '--stdio', '--workspace', project];
    const before = await connectStdio(args, { CODEBUDDY_LOCAL_SANDBOX: 'off' });
    await before.call('workspace_get', {});
    await before.close();
    const after = await connectStdio(args);
    try {
      const run = await after.call('exec', { command: 'id -u' });
      expect(run.isError, run.text).toBe(false);
      expect((run.structured!.stdout as string).trim()).toBe('4322');
    } finally {
      await after.close();
    }
  });

  it('refuses commands in a directory of root’s, saying what to do', async () => {
    const client = await connectStdio(['--data-dir', tempDir('codebuddy-data-'), 'serve', '--stdio', '--workspace', tempDir('codebuddy-project-')]);
    try {
      const run = await client.call('exec', { command: 'true' });
      expect(run).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
      expect(run.text).toContain('chown');
    } finally {
      await client.close();
    }
  });
});

describe.skipIf(process.getuid?.() !== 0)('without a sandbox', () => {
  /** `serve --stdio` as an unprivileged user, who cannot make a sandbox: commands are refused unless allowed explicitly. */
  const execAsNobody = async (env: Record<string, string>) => {
    const dataDir = tempDir();
    const project = join(dataDir, 'project');
    mkdirSync(project);
    for (const path of [dataDir, project]) chownSync(path, 65534, 65534);
    const child = spawn(process.execPath, [CLI, '--data-dir', join(dataDir, 'data'), 'serve', '--stdio', '--workspace', project], {
      uid: 65534,
      gid: 65534,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
        lines.push(buffer.slice(0, end));
        buffer = buffer.slice(end + 1);
      }
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'exec', arguments: { command: 'echo ran-$((40+2))' } } });
    await expect.poll(() => lines.some((line) => line.includes('"id":2')), { timeout: 20_000 }).toBe(true);
    child.kill();
    return { answer: lines.find((line) => line.includes('"id":2'))!, stderr };
  };

  it('refuses local commands, and says why at start', async () => {
    const { answer, stderr } = await execAsNobody({});
    expect(answer).toContain('E_FORBIDDEN');
    expect(answer).toContain('no sandbox');
    expect(answer).not.toContain('ran-42');
    expect(stderr).toContain('no sandbox');
  });

  it('runs them as the server user only with CODEBUDDY_ALLOW_UNSANDBOXED', async () => {
    const { answer } = await execAsNobody({ CODEBUDDY_ALLOW_UNSANDBOXED: 'true' });
    expect(answer).toContain('ran-42');
  });
});
