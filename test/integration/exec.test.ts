import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** Live processes whose command line contains `marker`: what a killed tree must not leave behind. */
function processesWith(marker: string): number {
  let count = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(marker)) count++;
    } catch {
      // exited meanwhile
    }
  }
  return count;
}

const cgroupsWritable = (() => {
  const probe = existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup/codebuddy-probe' : '/sys/fs/cgroup/pids/codebuddy-probe';
  try {
    mkdirSync(probe);
    return true;
  } catch {
    return false;
  } finally {
    try {
      rmdirSync(probe);
    } catch {
      // nothing made
    }
  }
})();

describe('exec on the local runtime', () => {
  let server: TestServer;
  let agent: McpClient;
  let root: string;

  beforeAll(async () => {
    process.env.CODEBUDDY_TEST_SERVER_SECRET = 'must-not-leak';
    server = await startTestServer({ localPidsLimit: 64, localMemoryBytes: 128 * 1024 * 1024, execMaxTimeoutSeconds: 30 });
    agent = await connectModernHttp(server.url, server.token('acme', 'bot'));
    root = (await agent.call('workspace_create', { name: 'w' })).structured!.root as string;
    mkdirSync(join(root, 'sub'));
  });

  afterAll(async () => {
    delete process.env.CODEBUDDY_TEST_SERVER_SECRET;
    await agent?.close();
    await server?.close();
  });

  it('runs argv and shell strings, with exit code, stdout and stderr', async () => {
    const argv = await agent.call('exec', { command: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
    expect(argv.structured).toMatchObject({ exit_code: 3, stdout: 'out\n', stderr: 'err\n', timed_out: false, truncated: false });
    expect(argv.text).toMatch(/^exit 3 in \d+ ms\n--- stdout\nout\n--- stderr\nerr$/);
    const shell = await agent.call('exec', { command: 'pwd && echo "$HOME"', cwd: 'sub' });
    const [pwd, home] = (shell.structured!.stdout as string).trim().split('\n');
    // Sandboxed, the workspace is mounted at /workspace, as in a Docker workspace.
    expect(pwd).toBe('/workspace/sub');
    expect(home!.startsWith(root)).toBe(false);
    expect((await agent.call('exec', { command: ['no-such-command-xyz'] })).structured).toMatchObject({ exit_code: 127 });
  });

  it('confines cwd to the workspace', async () => {
    expect(await agent.call('exec', { command: 'ls', cwd: '../' })).toMatchObject({ isError: true, code: 'E_PATH_OUTSIDE_WORKSPACE' });
    expect(await agent.call('exec', { command: 'ls', cwd: 'missing' })).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
  });

  it("gives commands a scrubbed environment, never the server's", async () => {
    const env = await agent.call('exec', { command: 'env', env: { GREETING: 'hello' } });
    const stdout = env.structured!.stdout as string;
    expect(stdout).toContain('GREETING=hello');
    expect(stdout).toContain('PATH=');
    expect(stdout).not.toContain('must-not-leak');
    expect(stdout).not.toContain('CODEBUDDY_');
    const recorded = server.app.db.prepare("SELECT arguments_json FROM actions WHERE operation = 'exec' AND arguments_json LIKE '%GREETING%'").pluck().get() as string;
    expect(JSON.parse(recorded)).toMatchObject({ env: { GREETING: '[redacted]' } });
  });

  it('kills the whole tree on timeout, background children included', async () => {
    const timedOut = await agent.call('exec', { command: 'sleep 91.01', timeout_s: 1 });
    expect(timedOut.structured).toMatchObject({ timed_out: true, exit_code: null });
    expect(timedOut.text).toMatch(/^timed out after 1\.\d s; the process tree was killed/);
    const leftBehind = await agent.call('exec', { command: 'sleep 92.02 & echo started' });
    expect(leftBehind.structured).toMatchObject({ exit_code: 0, stdout: 'started\n' });
    await expect.poll(() => processesWith('sleep 91.01') + processesWith('sleep 92.02'), { timeout: 3000 }).toBe(0);
  });

  it('keeps the head and tail of endless output, and the server keeps answering meanwhile', async () => {
    const flood = agent.call('exec', { command: 'yes flood', timeout_s: 2, max_output: 4096 });
    const started = Date.now();
    expect((await agent.call('file_list', {})).isError).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
    const answer = await flood;
    expect(answer.structured).toMatchObject({ timed_out: true, truncated: true });
    expect(answer.structured!.stdout_bytes as number).toBeGreaterThan(100_000);
    expect((answer.structured!.stdout as string).length).toBeLessThan(5000);
    expect(answer.structured!.stdout).toMatch(/^flood\n[\s\S]*\n…\[\d+ bytes of output elided\]…\n[\s\S]*flood\n$/);
  });

  it('answers a refused network connection promptly (loopback only)', async () => {
    const attempt = await agent.call('exec', { command: ['node', '-e', "require('net').connect(1, '127.0.0.1').on('error', (e) => { console.log(e.code); process.exit(2); })"], timeout_s: 10 });
    expect(attempt.structured).toMatchObject({ exit_code: 2, stdout: 'ECONNREFUSED\n', timed_out: false });
  });

  it('kills the tree when the MCP call is cancelled', async () => {
    const client = new Client({ name: 'canceller', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(server.url, { requestInit: { headers: { Authorization: `Bearer ${server.token('acme', 'bot')}` } } }));
    const controller = new AbortController();
    const call = client.callTool({ name: 'exec', arguments: { command: 'sleep 93.03' } }, undefined, { signal: controller.signal });
    await expect.poll(() => processesWith('sleep 93.03') > 0, { timeout: 3000 }).toBe(true);
    controller.abort();
    await expect(call).rejects.toThrow();
    await expect.poll(() => processesWith('sleep 93.03'), { timeout: 3000 }).toBe(0);
    await client.close();
  });

  it('sends progress notifications while a long command runs', async () => {
    const client = new Client({ name: 'watcher', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(server.url, { requestInit: { headers: { Authorization: `Bearer ${server.token('acme', 'bot')}` } } }));
    const messages: string[] = [];
    const result = await client.callTool({ name: 'exec', arguments: { command: 'for i in 1 2 3 4 5; do echo "step $i"; sleep 0.5; done' } }, undefined, {
      onprogress: (progress) => messages.push(progress.message ?? ''),
    });
    await client.close();
    expect((result.structuredContent as { exit_code: number }).exit_code).toBe(0);
    expect(messages.length).toBeGreaterThanOrEqual(1);
    expect(messages.some((message) => /^step \d$/.test(message))).toBe(true);
  });

  describe.runIf(cgroupsWritable || process.env.CI)('with cgroup limits', () => {
    it('stops a fork bomb at the process limit; the server keeps serving', async () => {
      // In the foreground: in the sandbox, what a command leaves in the background dies the moment it exits.
      const bomb = agent.call('exec', { command: 'bomb() { bomb | bomb; }; bomb', timeout_s: 3 });
      expect((await agent.call('file_list', {})).isError).toBe(false);
      const answer = await bomb;
      expect(answer.isError).toBe(false);
      expect(answer.structured!.limit === 'pids' || answer.structured!.timed_out === true, answer.text).toBe(true);
      expect(readdirSync('/sys/fs/cgroup').length).toBeGreaterThan(0);
    });

    it('kills a memory hog at the memory limit', async () => {
      const hog = await agent.call('exec', { command: ['node', '-e', 'const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1));'], timeout_s: 20 });
      expect(hog.structured).toMatchObject({ limit: 'memory', exit_code: null, signal: 'SIGKILL' });
      expect(hog.text).toMatch(/^killed: over the memory limit/);
    });
  });
  if (!cgroupsWritable && !process.env.CI) console.warn('cgroups are not writable here: the fork-bomb and memory-hog exec tests are not run');

  it('holds commands for approval under review-all, and denies by command pattern', async () => {
    const approver = await connectModernHttp(server.url, server.token('acme', 'ana', 'approver'));
    await approver.call('policy_set', { preset: 'review-all', rules: [{ command: '^rm -rf', decision: 'deny' }] });
    const held = await agent.call('exec', { command: 'touch made-by-exec' });
    expect(held.structured).toMatchObject({ status: 'pending_approval' });
    expect(held.structured!.preview).toBe('$ touch made-by-exec\n(in ., timeout 60 s)');
    expect(existsSync(join(root, 'made-by-exec'))).toBe(false);
    const applied = await approver.call('action_approve', { id: held.structured!.action_id });
    expect(applied.structured).toMatchObject({ status: 'applied', result: { exit_code: 0 } });
    expect(existsSync(join(root, 'made-by-exec'))).toBe(true);
    expect(await agent.call('exec', { command: 'rm -rf /' })).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
    expect(await agent.call('exec', { command: 'echo $X', env: { X: 'secret' } })).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    await approver.call('policy_set', { preset: 'trusted' });
    await approver.close();
  });
});
