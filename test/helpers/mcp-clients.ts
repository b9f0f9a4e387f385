import { fileURLToPath } from 'node:url';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyHttpTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttpTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport as ModernStdioTransport } from '@modelcontextprotocol/client/stdio';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** The answer of one tool call, flattened for assertions. */
export interface ToolAnswer {
  isError: boolean;
  text: string;
  structured: Record<string, unknown> | undefined;
  /** The stable error code, for error answers. */
  code: string | undefined;
  meta: Record<string, unknown> | undefined;
}

/** What both SDK generations' clients have in common for our purposes. */
export interface McpClient {
  era: '2025-11-25' | '2026-07-28';
  call(name: string, args?: Record<string, unknown>): Promise<ToolAnswer>;
  listTools(): Promise<{ name: string; title?: string; description?: string; inputSchema: unknown; outputSchema?: unknown; annotations?: Record<string, unknown> }[]>;
  close(): Promise<void>;
}

function flatten(result: { isError?: boolean; content?: unknown; structuredContent?: unknown; _meta?: unknown }): ToolAnswer {
  const content = (result.content as { type: string; text?: string }[] | undefined) ?? [];
  const text = content.map((block) => block.text ?? '').join('\n');
  const meta = result._meta as Record<string, unknown> | undefined;
  const error = meta?.['codebuddy/error'] as { code?: string } | undefined;
  return {
    isError: result.isError === true,
    text,
    structured: result.structuredContent as Record<string, unknown> | undefined,
    code: result.isError ? (error?.code ?? /^(E_[A-Z_]+):/.exec(text)?.[1]) : undefined,
    meta,
  };
}

function wrap(era: McpClient['era'], client: LegacyClient | ModernClient): McpClient {
  return {
    era,
    call: async (name, args = {}) => flatten((await client.callTool({ name, arguments: args })) as Parameters<typeof flatten>[0]),
    listTools: async () => (await client.listTools()).tools as Awaited<ReturnType<McpClient['listTools']>>,
    close: () => client.close(),
  };
}

/** A 2025-11-25 client: the v1 SDK, with `initialize` and an `Mcp-Session-Id` session. */
export async function connectLegacyHttp(url: URL, token: string): Promise<McpClient> {
  const client = new LegacyClient({ name: 'legacy-test-client', version: '1.0.0' });
  await client.connect(new LegacyHttpTransport(url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return wrap('2025-11-25', client);
}

/** A 2026-07-28 client: the v2 SDK pinned to the modern, stateless protocol. */
export async function connectModernHttp(url: URL, token: string): Promise<McpClient> {
  const client = new ModernClient({ name: 'modern-test-client', version: '2.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new ModernHttpTransport(url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return wrap('2026-07-28', client);
}

export function connectHttp(era: McpClient['era'], url: URL, token: string): Promise<McpClient> {
  return era === '2025-11-25' ? connectLegacyHttp(url, token) : connectModernHttp(url, token);
}

/**
 * `codebuddy serve --stdio` as a real child process, driven by the SDK's stdio client of
 * the given era (the v1 client for 2025-11-25, the v2 client pinned for 2026-07-28).
 */
export async function connectStdio(args: string[], env: Record<string, string> = {}, era: McpClient['era'] = '2025-11-25'): Promise<McpClient & { stderr: () => string }> {
  const parameters = {
    command: process.execPath,
    args: [CLI, ...args],
    env: { ...(process.env as Record<string, string>), CODEBUDDY_LOG_LEVEL: 'warn', ...env },
    stderr: 'pipe' as const,
  };
  let stderr = '';
  const collect = (chunk: Buffer) => (stderr += chunk.toString());
  if (era === '2026-07-28') {
    const transport = new ModernStdioTransport(parameters);
    transport.stderr?.on('data', collect);
    const client = new ModernClient({ name: 'stdio-test-client', version: '2.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(transport);
    return { ...wrap(era, client), stderr: () => stderr };
  }
  const transport = new StdioClientTransport(parameters);
  transport.stderr?.on('data', collect);
  const client = new LegacyClient({ name: 'stdio-test-client', version: '1.0.0' });
  await client.connect(transport);
  return { ...wrap(era, client), stderr: () => stderr };
}
