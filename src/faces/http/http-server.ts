import Fastify, { type FastifyRequest } from 'fastify';
import { hostHeaderValidation } from '@modelcontextprotocol/node';
import type { App } from '../../app.js';
import { isCodeBuddyError, toCodeBuddyError, type ErrorCode } from '../../core/errors.js';
import { isSchemaCurrent } from '../../store/database.js';
import { HttpMcpEndpoint } from '../mcp/http-mcp-endpoint.js';
import { authInfoFor } from '../mcp/principal-auth-info.js';
import { registerRestApi } from './rest-api.js';
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
  E_CONFLICT: 409,
  E_EDIT_NO_MATCH: 409,
  E_EDIT_COUNT_MISMATCH: 409,
  E_TOO_LARGE: 413,
  E_DISK_FULL: 507,
  E_IDEMPOTENCY_MISMATCH: 422,
  E_STALE_PROPOSAL: 409,
  E_OUTCOME_UNKNOWN: 409,
  E_CONFIG: 500,
  E_INTERNAL: 500,
};

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]', '::1'];

export interface HttpServer {
  mcp: HttpMcpEndpoint;
  url: string;
  close(): Promise<void>;
}

/**
 * The HTTP face: `/mcp` (both MCP eras), `/api/*` (REST), both bearer-authenticated;
 * `/healthz`, `/readyz`.
 * Authentication happens here, before any MCP handling; the MCP layer receives the
 * principal and never reads credentials itself.
 */
export async function startHttpServer(app: App, options: { host: string; port: number }): Promise<HttpServer> {
  // A body holds at most one file's content, JSON-escaped (which can double it), plus the envelope.
  const fastify = Fastify({ bodyLimit: app.config.maxFileBytes * 2 + 1024 * 1024 });
  const mcp = new HttpMcpEndpoint(app.registry, app.logger);
  // DNS-rebinding guard: a browser page on another origin must not reach a loopback server.
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(options.host);
  const validateHost = loopback || app.config.allowedHosts.length > 0 ? hostHeaderValidation([...(loopback ? LOOPBACK_NAMES : []), ...app.config.allowedHosts]) : undefined;

  fastify.setErrorHandler((error, request, reply) => {
    const statusCode = (error as { statusCode?: number }).statusCode;
    // Fastify's own refusals (malformed JSON, body too large, unsupported media type) keep their status.
    if (!isCodeBuddyError(error) && statusCode !== undefined && statusCode < 500) {
      return reply.code(statusCode).send({ error: { code: statusCode === 413 ? 'E_TOO_LARGE' : 'E_INVALID_ARGUMENT', message: (error as Error).message } });
    }
    const failure = toCodeBuddyError(error);
    if (failure.code === 'E_INTERNAL') app.logger.error({ err: error, url: request.url }, 'http request failed');
    if (failure.code === 'E_UNAUTHENTICATED') void reply.header('www-authenticate', 'Bearer realm="codebuddy"');
    const details = failure.details?.field !== undefined ? { field: failure.details.field } : {};
    return reply.code(statusOf[failure.code]).send({ error: { code: failure.code, message: failure.message, ...details } });
  });

  fastify.get('/healthz', async () => ({ status: 'ok' }));
  fastify.get('/readyz', async (_request, reply) => {
    let ready = false;
    try {
      ready = app.db.prepare('SELECT 1').pluck().get() === 1 && isSchemaCurrent(app.db);
    } catch {
      ready = false;
    }
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', database: ready ? 'open' : 'unavailable' });
  });

  const authenticate = (request: FastifyRequest) => app.authenticator.authenticate(request.headers.authorization);

  fastify.route({
    method: ['GET', 'POST', 'DELETE'],
    url: '/mcp',
    handler: async (request, reply) => {
      const principal = await authenticate(request);
      reply.hijack();
      if (validateHost && !validateHost(request.raw, reply.raw)) return;
      const token = request.headers.authorization!.replace(/^Bearer\s+/i, '').trim();
      await mcp.handle(Object.assign(request.raw, { auth: authInfoFor(principal, token) }), reply.raw, request.body);
    },
  });
  registerRestApi(fastify, app, authenticate);
  await registerTerminalSocket(fastify, app);

  const address = await fastify.listen({ host: options.host, port: options.port });
  const url = `${address.replace('[::1]', 'localhost')}/mcp`;
  return {
    mcp,
    url,
    async close() {
      await mcp.close();
      await fastify.close();
    },
  };
}
