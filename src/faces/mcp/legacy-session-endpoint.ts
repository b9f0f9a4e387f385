import { randomUUID } from 'node:crypto';
import { WebStandardStreamableHTTPServerTransport, type McpHandlerRequestOptions, type RequestId, type Server } from '@modelcontextprotocol/server';
import { bindingOf, type Authenticated, type Credential } from '../../auth/credential.js';
import type { Principal } from '../../auth/principal.js';
import { jsonRpcError } from './json-rpc-error.js';
import { SessionEventStore } from './session-event-store.js';
import { authenticatedOf } from './principal-auth-info.js';

interface Session {
  transport: WebStandardStreamableHTTPServerTransport;
  /** The credential, tenant and role that opened it: the only ones it answers. */
  binding: string;
  /** Tenant and user, for the per-principal cap. */
  holder: string;
  credential: Credential;
  lastUsed: number;
}

export interface SessionLimits {
  maxSessions: number;
  maxPerPrincipal: number;
  /** Whether the credential that opened a session would still authenticate (not revoked, not expired). */
  isCurrent(credential: Credential): boolean;
  idleMs?: number;
  /** How often sessions are checked for idleness and for revoked or expired credentials. */
  sweepMs?: number;
}

/**
 * At the cap on all sessions, another user's session is closed to make room only once it has
 * been idle this long: one tenant opening sessions must not end others' live ones.
 */
const EVICTABLE_AFTER_MS = 60_000;

/**
 * What each session keeps for a client that reconnects with `Last-Event-ID`: enough for the
 * answers of calls in flight and their progress, not a history. Sessions are capped in number
 * (`maxSessions`), so this bounds the whole.
 */
const RESUMABLE_EVENTS = { maxEvents: 200, maxBytes: 1024 * 1024 };
/** The JSON-RPC code of the answer that ends a cancelled request's stream (JSON-RPC's reserved range; LSP's RequestCancelled). */
const REQUEST_CANCELLED = -32800;
/** How long a client waits before reconnecting a broken stream (the SSE `retry` field). */
const RETRY_MS = 1_000;

const holderOf = (principal: Principal) => `${principal.tenantId}\u0000${principal.userId}`;

/**
 * Streamable HTTP for 2025-era clients, with sessions (`initialize`, `Mcp-Session-Id`,
 * GET streams, DELETE). A session belongs to the credential that opened it (the API token,
 * or the JWT's issuer and subject) with that tenant and role: any other credential, even
 * the same user's token with another role, gets 404 as for an unknown session, so an
 * agent token cannot ride an approver's session. Sessions are capped per user (their longest
 * idle one is closed to make room) and in all (the longest idle of anyone's is closed, if it
 * has been idle a while; otherwise the new one is refused with 503), and a session ends once
 * its token is revoked or its JWT expires.
 */
export class LegacySessionEndpoint {
  private readonly sessions = new Map<string, Session>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly idleMs: number;

  constructor(
    private readonly createServer: (principal: Principal) => Server,
    private readonly limits: SessionLimits,
  ) {
    this.idleMs = limits.idleMs ?? 30 * 60_000;
    this.sweeper = setInterval(() => this.sweep(), limits.sweepMs ?? 5_000).unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  async handle(request: Request, options: McpHandlerRequestOptions): Promise<Response> {
    const authenticated = authenticatedOf(options.authInfo);
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId) {
      const session = this.sessions.get(sessionId);
      if (!session || session.binding !== bindingOf(authenticated)) return jsonRpcError(404, -32001, 'Session not found');
      session.lastUsed = Date.now();
      // The same credential renewed (a fresh JWT of the same issuer and subject) keeps the session alive.
      session.credential = authenticated.credential;
      const response = await session.transport.handleRequest(request, options);
      for (const id of cancelledRequestIds(options.parsedBody)) endCancelled(session.transport, id);
      return response;
    }
    if (request.method !== 'POST' || !isInitialize(options.parsedBody)) {
      return jsonRpcError(400, -32000, 'Bad Request: no valid Mcp-Session-Id; start with initialize');
    }
    if (!this.hasRoomFor(holderOf(authenticated.principal))) return jsonRpcError(503, -32000, 'The server holds as many sessions as it may; retry later');
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      // Resumability (2025-11-25 clients): event ids, a priming event with `retry`, replay on Last-Event-ID.
      eventStore: new SessionEventStore(RESUMABLE_EVENTS),
      retryInterval: RETRY_MS,
      onsessioninitialized: (id) => this.open(id, transport, authenticated),
      onsessionclosed: (id) => {
        this.sessions.delete(id);
      },
    });
    await this.createServer(authenticated.principal).connect(transport);
    return transport.handleRequest(request, options);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const open = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.allSettled(open.map((session) => session.transport.close()));
  }

  /** A new session fits: under the cap, or its holder makes room among its own, or someone's has been idle long enough to close. */
  private hasRoomFor(holder: string): boolean {
    if (this.sessions.size < this.limits.maxSessions) return true;
    const all = [...this.sessions];
    if (all.filter(([, session]) => session.holder === holder).length >= this.limits.maxPerPrincipal) return true;
    return this.sessions.get(longestIdle(all))!.lastUsed <= Date.now() - EVICTABLE_AFTER_MS;
  }

  /** Registers a new session, first closing the longest-idle ones that would put it over a cap. */
  private open(id: string, transport: WebStandardStreamableHTTPServerTransport, authenticated: Authenticated): void {
    const holder = holderOf(authenticated.principal);
    for (;;) {
      const held = [...this.sessions].filter(([, session]) => session.holder === holder);
      if (held.length < this.limits.maxPerPrincipal) break;
      this.end(longestIdle(held));
    }
    while (this.sessions.size >= this.limits.maxSessions) this.end(longestIdle([...this.sessions]));
    this.sessions.set(id, { transport, binding: bindingOf(authenticated), holder, credential: authenticated.credential, lastUsed: Date.now() });
  }

  private end(id: string): void {
    const session = this.sessions.get(id);
    this.sessions.delete(id);
    void session?.transport.close();
  }

  private sweep(): void {
    const cutoff = Date.now() - this.idleMs;
    // Many sessions share a credential: ask about each credential once per sweep.
    const current = new Map<string, boolean>();
    for (const [id, session] of this.sessions) {
      const key = session.credential.key;
      if (!current.has(key)) current.set(key, this.limits.isCurrent(session.credential));
      if (session.lastUsed < cutoff || !current.get(key)) this.end(id);
    }
  }
}

function longestIdle(sessions: [string, Session][]): string {
  return sessions.reduce((oldest, entry) => (entry[1].lastUsed < oldest[1].lastUsed ? entry : oldest))[0];
}

/** The request ids a body's `notifications/cancelled` messages name. */
function cancelledRequestIds(body: unknown): RequestId[] {
  const messages = Array.isArray(body) ? body : [body];
  return messages
    .filter((message) => (message as { method?: unknown } | null)?.method === 'notifications/cancelled')
    .map((message) => (message as { params?: { requestId?: unknown } }).params?.requestId)
    .filter((id): id is RequestId => typeof id === 'string' || typeof id === 'number');
}

/**
 * A cancelled request gets no answer from the SDK, so its POST stream stayed open with
 * keep-alives, and a client that had its priming event reconnected with `Last-Event-ID` to
 * wait for an answer that would never come. The stream is ended here with a final error
 * answer instead: the spec's cancellation section tells senders to ignore an answer that
 * arrives after they cancelled, and the Python SDK's servers send one too. Nothing happens
 * when the request was already answered (the race the spec allows for).
 */
function endCancelled(transport: WebStandardStreamableHTTPServerTransport, id: RequestId): void {
  void transport.send({ jsonrpc: '2.0', id, error: { code: REQUEST_CANCELLED, message: 'Request cancelled' } }).catch(() => undefined);
}

function isInitialize(body: unknown): boolean {
  const messages = Array.isArray(body) ? body : [body];
  return messages.some((message) => (message as { method?: unknown } | null)?.method === 'initialize');
}
