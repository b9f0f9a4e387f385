import { serveStdio, type StdioServerHandle } from '@modelcontextprotocol/server/stdio';
import type { App } from '../../app.js';
import type { Principal } from '../../auth/principal.js';
import { buildToolCatalog } from './tool-catalog.js';
import { createMcpServer } from './mcp-server-factory.js';

/**
 * MCP over stdin/stdout for hosts that launch a command. Both eras: a 2025 client opens
 * with `initialize`, a 2026-07-28 client with `server/discover`; the SDK pins the era.
 * stdout carries only protocol messages; everything else goes to stderr.
 */
export function serveMcpStdio(app: App, principal: Principal, defaultWorkspaceId?: string): StdioServerHandle {
  const tools = buildToolCatalog(app.registry);
  const binding = defaultWorkspaceId ? { principal, defaultWorkspaceId } : { principal };
  return serveStdio(() => createMcpServer(app.registry, tools, binding, app.logger), {
    legacy: 'serve',
    onerror: (error) => app.logger.warn({ err: error }, 'mcp stdio error'),
  });
}
