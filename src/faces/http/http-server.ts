import type { AddressInfo } from 'node:net';
import websocket from '@fastify/websocket';
import Fastify from 'fastify';
import type { App } from '../../app.js';
import { CodeBuddyError, isCodeBuddyError, toCodeBuddyError, type ErrorCode } from '../../core/errors.js';
import { isSchemaCurrent } from '../../store/database.js';
import { HttpMcpEndpoint } from '../mcp/http-mcp-endpoint.js';
import { registerCors, registerSecurityHeaders } from './browser-policy.js';
import { ConnectionDrain } from './connection-drain.js';
import { registerMcpRoute } from './mcp-route.js';
import { OriginGuard } from './origin-guard.js';
import { bearerChallenge, registerProtectedResourceMetadata } from './protected-resource.js';
import { registerAuthentication } from './request-authentication.js';
import { registerLspSocket } from './lsp-socket.js';
import { registerRestApi } from './rest-api.js';
import { registerSyncSocket } from './sync-socket.js';
import { registerTerminalSocket } from './terminal-socket.js';

const statusOf: Record<ErrorCode, number> = {
  E_INVALID_ARGUMENT: 400,
  E_INVALID_CURSOR: 400,
  E_PATH_OUTSIDE_WORKSPACE: 400,
  E_NOT_A_FILE: 400,
  E_NOT_A_DIRECTORY: 400,
  E_UNAUTHENTICATED: 401,
  E_FORBIDDEN: 403,
  E_NOT_FOUND: 404,
  E_METHOD_NOT_ALLOWED: 405,
  E_CONFLICT: 409,
  E_EDIT_NO_MATCH: 409,
  E_EDIT_COUNT_MISMATCH: 409,
  E_TOO_LARGE: 413,
  E_DISK_FULL: 507,
  E_IDEMPOTENCY_MISMATCH: 422,
  E_STALE_PROPOSAL: 409,
  E_OUTCOME_UNKNOWN: 409,
  E_RATE_LIMITED: 429,
  E_UNSUPPORTED: 422,
  E_CONFIG: 500,
  E_UNAVAILABLE: 503,
  E_TIMEOUT: 504,
  E_INTERNAL: 500,
};

/** How long calls in flight at shutdown get to finish and answer before they are cut off. */
export const SHUTDOWN_GRACE_MS = 2_000;

export interface HttpServer {
  mcp: HttpMcpEndpoint;
  url: string;
  close(): Promise<void>;
}

/**
 * The HTTP face: `/mcp` (both MCP eras), `/api/*` and `/openapi.json` (REST), `/ws/terminals/:id`, `/sync/*`, `/lsp/:workspace`, all
 * bearer-authenticated; `/healthz`, `/readyz`.
 * Every request, WebSocket upgrades included, passes the same hooks in this order, before
 * any body is read: security headers, Host and Origin checks, CORS (only when configured),
 * authentication and rate limits. Routes find the caller on `request.caller`; the MCP layer
 * receives the principal and never reads credentials itself.
 */
export async function startHttpServer(app: App, options: { host: string; port: number; shutdownGraceMs?: number }): Promise<HttpServer> {
  // A body holds at most one file's content, JSON-escaped (which can double it), plus the envelope.
  // Only an authenticated request gets that far: authentication runs before the body is read.
  const fastify = Fastify({ bodyLimit: app.config.maxFileBytes * 2 + 1024 * 1024 });
  const mcp = new HttpMcpEndpoint(app.registry, app.logger, {
    maxSessions: app.config.maxSessions,
    maxPerPrincipal: app.config.maxSessionsPerPrincipal,
    isCurrent: (credential) => app.authenticator.isCurrent(credential),
  });
  const connections = new ConnectionDrain(fastify.server);
  const guard = new OriginGuard({ host: options.host, allowedHosts: app.config.allowedHosts, allowedOrigins: app.config.allowedOrigins });

  fastify.setErrorHandler((error, request, reply) => {
    // Refused before authentication: the body, if any, was never read; do not read it on
    // behalf of keep-alive either, close the connection once the answer is out.
    if (!request.caller) void reply.header('connection', 'close');
    const statusCode = (error as { statusCode?: number }).statusCode;
    // Fastify's own refusals (malformed JSON, body too large, unsupported media type) keep their status.
    if (!isCodeBuddyError(error) && statusCode !== undefined && statusCode < 500) {
      return reply.code(statusCode).send({ error: { code: statusCode === 413 ? 'E_TOO_LARGE' : 'E_INVALID_ARGUMENT', message: (error as Error).message } });
    }
    const failure = toCodeBuddyError(error);
    if (failure.code === 'E_INTERNAL') app.logger.error({ err: error, url: request.url }, 'http request failed');
    if (failure.code === 'E_UNAUTHENTICATED') void reply.header('www-authenticate', bearerChallenge(request));
    if (failure.code === 'E_METHOD_NOT_ALLOWED') void reply.header('allow', String(failure.details?.allow ?? ''));
    if (failure.code === 'E_RATE_LIMITED') void reply.header('retry-after', String(failure.details?.retry_after_s ?? 60));
    const details = failure.details?.field !== undefined ? { field: failure.details.field } : {};
    return reply.code(statusOf[failure.code]).send({ error: { code: failure.code, message: failure.message, ...details } });
  });

  // A path no route serves answers in the same shape as every refusal (after the same hooks:
  // authentication first). The query is left out of the message: it may hold `?token=`.
  fastify.setNotFoundHandler(async (request) => {
    throw new CodeBuddyError('E_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}; operations are POST /api/ops/<name>, described at /openapi.json`);
  });

  // First, so that its hooks know an upgrade for what it is even when a later hook refuses it
  // (and then close the upgraded socket, which no HTTP machinery would).
  // A backstop (close 1009) past which ws reads nothing; a sync room refuses a message over
  // syncMaxUpdateBytes itself, with a clear 4413. Terminal viewers send nothing.
  await fastify.register(websocket, { options: { maxPayload: app.config.syncMaxUpdateBytes * 2 } });
  await registerSecurityHeaders(fastify);
  fastify.addHook('onRequest', async (request) => guard.check(request.headers.host, request.headers.origin));
  await registerCors(fastify, guard.corsOrigins);
  await registerAuthentication(fastify, app);

  registerProtectedResourceMetadata(fastify, app.config);
  fastify.get('/healthz', { config: { public: true } }, async () => ({ status: 'ok' }));
  fastify.get('/readyz', { config: { public: true } }, async (_request, reply) => {
    let ready = false;
    try {
      ready = app.db.prepare('SELECT 1').pluck().get() === 1 && isSchemaCurrent(app.db);
    } catch {
      ready = false;
    }
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', database: ready ? 'open' : 'unavailable' });
  });

  await registerMcpRoute(fastify, mcp);
  await registerRestApi(fastify, app);
  registerTerminalSocket(fastify, app);
  registerSyncSocket(fastify, app);
  registerLspSocket(fastify, app);

  const address = await fastify.listen({ host: options.host, port: options.port });
  guard.listeningOn((fastify.server.address() as AddressInfo).port);
  const url = `${address.replace('[::1]', 'localhost')}/mcp`;
  const graceMs = options.shutdownGraceMs ?? SHUTDOWN_GRACE_MS;
  /**
   * Graceful but bounded: calls in flight get the grace to finish and answer; then whatever
   * is left is cut off (its calls cancelled, and recorded so) and every socket closed.
   */
  const closeGracefully = async () => {
    // Pending human edits are written, and the sync sockets closed, first.
    await app.sync.close();
    // fastify stops accepting, answers 503 to new requests on open sockets (a session's next
    // call among them) and sends WebSockets a close frame; it resolves once every socket is gone.
    const closed = fastify.close();
    connections.closeIdle();
    const finished = await app.registry.settled(graceMs);
    // Ends the sessions: their GET streams, and the calls still running, which it cancels.
    await mcp.close();
    connections.closeAll();
    // A peer that never answers the close frame would hold shutdown for ws's 30 s.
    for (const client of fastify.websocketServer.clients) client.terminate();
    await closed;
    // The calls cut off were cancelled: let them record so before the database closes.
    if (!finished && !(await app.registry.settled(graceMs))) app.logger.warn({ grace_ms: graceMs }, 'calls still running at shutdown');
  };
  let closing: Promise<void> | undefined;
  return {
    mcp,
    url,
    close: () => (closing ??= closeGracefully()),
  };
}
