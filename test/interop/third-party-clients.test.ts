/**
 * Clients nobody here wrote (issue 13): MCP Inspector 0.15 (Node 20, a root devDependency;
 * it cannot send headers, so it goes through the loopback proxy that adds the token) over
 * HTTP and stdio; Inspector 2.12 with `--strict` (Node 24 from test/interop/tools): zero
 * schema findings; `mcp-remote` bridging a stdio client to our HTTP endpoint; and the
 * official conformance suite's applicable server scenarios (Node 24), through the proxy,
 * since the suite sends no Authorization header.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/mcp-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { interopTool, node24, run } from './helpers/interop-tools.js';
import { startLoopbackProxy, type LoopbackProxy } from './helpers/loopback-proxy.js';
import { AGENT_TOOLS } from '../helpers/tool-names.js';

const ROOT_MODULES = join(import.meta.dirname, '..', '..', 'node_modules');
const INSPECTOR_015 = join(ROOT_MODULES, '@modelcontextprotocol', 'inspector-cli', 'build', 'index.js');
const MCP_REMOTE = join(ROOT_MODULES, 'mcp-remote', 'dist', 'proxy.js');
const node = node24();

/** The conformance suite's server scenarios that apply to a server without the reference test tools, prompts or resources. */
const CONFORMANCE_SCENARIOS = ['server-initialize', 'ping', 'tools-list', 'server-sse-multiple-streams', 'dns-rebinding-protection'] as const;

describe('third-party clients over HTTP', () => {
  let server: TestServer;
  let token: string;
  let proxy: LoopbackProxy;
  const dataDir = mkdtempSync(join(tmpdir(), 'codebuddy-interop-'));

  beforeAll(async () => {
    server = await startTestServer();
    token = server.token('acme', 'ada');
    proxy = await startLoopbackProxy(server.url, { authorization: `Bearer ${token}` });
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('Inspector 0.15 CLI (through the token-adding proxy): tools/list and tools/call over HTTP', async () => {
    const listed = await run(process.execPath, [INSPECTOR_015, proxy.url.href, '--transport', 'http', '--method', 'tools/list']);
    expect(listed.code, listed.stderr).toBe(0);
    const tools = (JSON.parse(listed.stdout) as { tools: { name: string; title?: string }[] }).tools;
    expect(tools).toHaveLength(AGENT_TOOLS.length);
    expect(tools.every((tool) => tool.title)).toBe(true);
    const called = await run(process.execPath, [INSPECTOR_015, proxy.url.href, '--transport', 'http', '--method', 'tools/call', '--tool-name', 'workspace_create', '--tool-arg', 'name=inspected']);
    expect(called.code, called.stderr).toBe(0);
    expect(JSON.parse(called.stdout)).toMatchObject({ structuredContent: { name: 'inspected', runtime: 'local' } });
  });

  it('Inspector 0.15 CLI over stdio', async () => {
    const listed = await run(process.execPath, [INSPECTOR_015, process.execPath, CLI, '--data-dir', dataDir, 'serve', '--stdio', '--method', 'tools/list'], { env: { CODEBUDDY_WORKSPACE_DISK_BYTES: '0', CODEBUDDY_LOG_LEVEL: 'warn' } });
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { tools: unknown[] }).tools).toHaveLength(AGENT_TOOLS.length);
  });

  it('mcp-remote bridges a stdio client (v1 SDK) to /mcp with the bearer header', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [MCP_REMOTE, server.url.href, '--header', `Authorization: Bearer ${token}`],
      env: { ...(process.env as Record<string, string>), MCP_REMOTE_CONFIG_DIR: join(dataDir, 'mcp-remote') },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'behind-mcp-remote', version: '1' });
    await client.connect(transport);
    try {
      expect((await client.listTools()).tools).toHaveLength(AGENT_TOOLS.length);
      const created = await client.callTool({ name: 'workspace_create', arguments: { name: 'remote' } });
      expect(created.structuredContent).toMatchObject({ name: 'remote' });
    } finally {
      await client.close();
    }
  });

  it.skipIf(node.missing)('Inspector 2.12 CLI --strict (Node 24): zero schema findings, and calls work', async () => {
    const launcher = interopTool('@modelcontextprotocol/inspector/clients/launcher/build/index.js');
    const common = ['--cli', server.url.href, '--transport', 'http', '--header', `Authorization: Bearer ${token}`];
    const strict = await run(node.path!, [launcher, ...common, '--method', 'tools/list', '--strict']);
    expect(strict.code, strict.stderr).toBe(0);
    expect(strict.stderr).not.toMatch(/Error: tool|Warning: tool/);
    expect((JSON.parse(strict.stdout) as { tools: unknown[] }).tools).toHaveLength(AGENT_TOOLS.length);
    const called = await run(node.path!, [launcher, ...common, '--method', 'tools/call', '--tool-name', 'workspace_list']);
    expect(called.code, called.stderr).toBe(0);
    expect(JSON.parse(called.stdout)).toMatchObject({ structuredContent: { workspaces: expect.any(Array) } });
  });

  it.skipIf(node.missing).each(CONFORMANCE_SCENARIOS)('conformance suite: %s passes', async (scenario) => {
    const suite = interopTool('@modelcontextprotocol/conformance/dist/index.js');
    const ran = await run(node.path!, [suite, 'server', '--url', proxy.url.href, '--scenario', scenario], { timeoutMs: 60_000 });
    expect(ran.code, ran.stdout + ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/Passed: (\d+)\/\1, 0 failed, 0 warnings/);
  });
});
