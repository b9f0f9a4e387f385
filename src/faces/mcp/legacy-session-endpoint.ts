import { randomUUID } from 'node:crypto';
import { WebStandardStreamableHTTPServerTransport, type McpHandlerRequestOptions, type Server } from '@modelcontextprotocol/server';
import type { Principal } from '../../auth/principal.js';
import { principalOf } from './principal-auth-info.js';

interface Session {
  transport: WebStandardStreamableHTTPServerTransport;
  owner: string;
  lastUsed: number;
}

const ownerKey = (principal: Principal) => `${principal.tenantId}\u0000${principal.userId}`;

function jsonRpcError(status: number, message: string): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

/**
 * Streamable HTTP for 2025-era clients, with sessions (`initialize`, `Mcp-Session-Id`,
 * GET streams, DELETE). A session belongs to the principal that opened it: presenting
 * its id with another tenant's or user's token answers 404, as for an unknown session.
 */
export class LegacySessionEndpoint {
  private readonly sessions = new Map<string, Session>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly createServer: (principal: Principal) => Server,
    private readonly idleMs = 30 * 60_000,
  ) {
    this.sweeper = setInterval(() => this.closeIdle(), Math.min(idleMs, 60_000)).unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  async handle(request: Request, options: McpHandlerRequestOptions): Promise<Response> {
    const principal = principalOf(options.authInfo);
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId) {
      const session = this.sessions.get(sessionId);
      if (!session || session.owner !== ownerKey(principal)) return jsonRpcError(404, 'Session not found');
      session.lastUsed = Date.now();
      return session.transport.handleRequest(request, options);
    }
    if (request.method !== 'POST' || !isInitialize(options.parsedBody)) {
      return jsonRpcError(400, 'Bad Request: no valid Mcp-Session-Id; start with initialize');
    }
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => {
        this.sessions.set(id, { transport, owner: ownerKey(principal), lastUsed: Date.now() });
      },
      onsessionclosed: (id) => {
        this.sessions.delete(id);
      },
    });
    await this.createServer(principal).connect(transport);
    return transport.handleRequest(request, options);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const open = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.allSettled(open.map((session) => session.transport.close()));
  }

  private closeIdle(): void {
    const cutoff = Date.now() - this.idleMs;
    for (const [id, session] of this.sessions) {
      if (session.lastUsed < cutoff) {
        this.sessions.delete(id);
        void session.transport.close();
      }
    }
  }
}

function isInitialize(body: unknown): boolean {
  const messages = Array.isArray(body) ? body : [body];
  return messages.some((message) => (message as { method?: unknown } | null)?.method === 'initialize');
}
