import { serveStdio, StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import type { App } from '../../app.js';
import type { Principal } from '../../auth/principal.js';
import { buildToolCatalog } from './tool-catalog.js';
import { createMcpServer } from './mcp-server-factory.js';

export interface StdioHandle {
  close(): Promise<void>;
}

/**
 * Whether a connection's first message opens a 2025-era session. Such a client sends
 * `initialize` first; a 2026-07-28 client opens with `server/discover` or any request
 * carrying the per-request `_meta` envelope.
 */
function opensLegacySession(firstLine: string): boolean {
  try {
    const message = JSON.parse(firstLine) as { method?: unknown };
    return message.method === 'initialize';
  } catch {
    return false;
  }
}

/**
 * MCP over stdin/stdout for hosts that launch a command, both eras. stdout carries only
 * protocol messages; logs go to stderr.
 *
 * The SDK's `serveStdio` negotiates the era per connection but adds, for every message of
 * the session, a queue hop and whole-message schema checks (measured: a ping round trip of
 * 0.098 ms against 0.063 ms for a server on the bare transport). A 2025 client, today's agent hosts, says which era it speaks in its
 * first line, so that session is served by a server connected straight to the stdio
 * transport; anything else goes to `serveStdio`. Either way the sniffed bytes go back
 * into stdin (`unshift`) for the transport to read from the start.
 */
export function serveMcpStdio(app: App, principal: Principal, defaultWorkspaceId?: string): StdioHandle {
  const catalog = buildToolCatalog(app.registry);
  const binding = defaultWorkspaceId ? { principal, defaultWorkspaceId } : { principal };
  const factory = () => createMcpServer(app.registry, catalog, binding, app.logger);
  const onerror = (error: Error) => app.logger.warn({ err: error }, 'mcp stdio error');

  let close: () => Promise<void> = async () => undefined;
  let buffered = Buffer.alloc(0);

  const onFirstData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    const newline = buffered.indexOf(0x0a);
    if (newline === -1) return;
    process.stdin.off('data', onFirstData);
    process.stdin.pause();
    // Put the sniffed bytes back: the transport reads stdin from its first byte.
    process.stdin.unshift(buffered);
    const transport = new StdioServerTransport(process.stdin, process.stdout);
    // stdin stays paused until the transport listens: an explicitly paused stream does not
    // resume when a 'data' listener is added, and nothing may flow before one is.
    if (opensLegacySession(buffered.subarray(0, newline).toString('utf8'))) {
      const server = factory();
      transport.onerror = onerror;
      void server.connect(transport).then(() => process.stdin.resume(), onerror);
      close = () => server.close();
    } else {
      const handle = serveStdio(factory, { legacy: 'serve', transport, onerror });
      process.stdin.resume();
      close = () => handle.close();
    }
  };
  process.stdin.on('data', onFirstData);

  return { close: () => close() };
}
