/**
 * The TypeScript SDK clients in every era they speak, over both transports: the v1 client
 * (2025-11-25), the v2 client negotiating the 2025 handshake (`legacy`), and the v2 client
 * pinned to 2026-07-28. Each lists the tools (titled), works in a workspace, and meets the
 * protocol errors of issue 13 (unknown tool and tools/list cursor: -32602).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as V1Stdio } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport as V1Http } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as V2Client, StreamableHTTPClientTransport as V2Http } from '@modelcontextprotocol/client';
import { StdioClientTransport as V2Stdio } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/mcp-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { AGENT_TOOLS } from '../helpers/tool-names.js';

type Transport = 'http' | 'stdio';
interface AnyClient {
  listTools(params?: { cursor?: string }): Promise<{ tools: { name: string; title?: string }[] }>;
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
  close(): Promise<void>;
}

const combos = [
  { client: 'v1 SDK', era: '2025-11-25' },
  { client: 'v2 SDK', era: '2025-11-25' },
  { client: 'v2 SDK', era: '2026-07-28' },
] as const;

describe('TypeScript SDK clients × era × transport', () => {
  let server: TestServer;
  let token: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'codebuddy-matrix-'));
  beforeAll(async () => {
    server = await startTestServer();
    token = server.token('acme', 'ada');
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function connect(client: (typeof combos)[number]['client'], era: string, transport: Transport): Promise<AnyClient> {
    const headers = { Authorization: `Bearer ${token}` };
    const stdio = { command: process.execPath, args: [CLI, '--data-dir', dataDir, 'serve', '--stdio'], env: { ...(process.env as Record<string, string>), CODEBUDDY_WORKSPACE_DISK_BYTES: '0', CODEBUDDY_LOG_LEVEL: 'warn' } };
    if (client === 'v1 SDK') {
      const v1 = new V1Client({ name: 'matrix-v1', version: '1' });
      await v1.connect(transport === 'http' ? new V1Http(server.url, { requestInit: { headers } }) : new V1Stdio(stdio));
      return v1 as unknown as AnyClient;
    }
    const v2 = new V2Client({ name: 'matrix-v2', version: '2' }, { versionNegotiation: { mode: era === '2026-07-28' ? { pin: era } : 'legacy' } });
    await v2.connect(transport === 'http' ? new V2Http(server.url, { requestInit: { headers } }) : new V2Stdio(stdio));
    return v2 as unknown as AnyClient;
  }

  it.each(combos.flatMap((combo) => (['http', 'stdio'] as const).map((transport) => ({ ...combo, transport }))))('$client, $era, $transport', async ({ client, era, transport }) => {
    const session = await connect(client, era, transport);
    try {
      const tools = (await session.listTools()).tools;
      expect(tools).toHaveLength(AGENT_TOOLS.length);
      expect(tools.every((tool) => typeof tool.title === 'string')).toBe(true);
      const name = `m-${client.replace(' ', '')}-${era}-${transport}`.replace(/[^\w.-]/g, '');
      expect(await session.callTool({ name: 'workspace_create', arguments: { name } })).toMatchObject({ structuredContent: { name } });
      await session.callTool({ name: 'file_write', arguments: { path: 'a.txt', content: 'matrix\n', workspace: name } });
      expect(await session.callTool({ name: 'file_read', arguments: { path: 'a.txt', workspace: name } })).toMatchObject({ content: [{ type: 'text', text: '1\tmatrix' }] });
      await expect(session.callTool({ name: 'no_such_tool', arguments: {} })).rejects.toMatchObject({ code: -32602 });
      await expect(session.listTools({ cursor: 'made-up' })).rejects.toMatchObject({ code: -32602 });
    } finally {
      await session.close();
    }
  });
});
