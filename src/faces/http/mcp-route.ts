import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { isJsonContentType } from '@modelcontextprotocol/server';
import { bearerOf } from '../../auth/authenticator.js';
import type { HttpMcpEndpoint } from '../mcp/http-mcp-endpoint.js';
import { jsonRpcErrorBody } from '../mcp/json-rpc-error.js';
import { authInfoFor } from '../mcp/principal-auth-info.js';

/** Why the body of a POST cannot go on to MCP, as the JSON-RPC error the spec's transport asks for. */
type BodyRefusal = { status: number; code: number; message: string };

/**
 * `/mcp`, in a fastify scope of its own: the request hooks (Host, Origin, authentication,
 * rate limits) are the server's, but the body is read here, as text, whatever its type, and
 * judged by the transport's rules rather than fastify's:
 *
 * - GET and DELETE carry no body: whatever came (the Python SDK sends `DELETE` with
 *   `Content-Type: application/json` and nothing after it) is ignored, not refused.
 * - a POST must be `application/json` (else 415) holding JSON (else 400, `-32700`).
 *
 * Refusals of the body are JSON-RPC error objects, as the SDK's own are; refusals by the
 * shared hooks (401, 403, 429) keep the server's error shape, the same on every route.
 */
export async function registerMcpRoute(fastify: FastifyInstance, endpoint: HttpMcpEndpoint): Promise<void> {
  await fastify.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // Reading as a string still applies the server's bodyLimit.
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_request, text, done) => done(null, text));
    scope.setErrorHandler((error: FastifyError, _request, reply) => {
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendRefusal(reply, { status: 413, code: -32000, message: 'Payload Too Large: the request body is over the limit' });
      throw error;
    });
    scope.route({
      method: ['GET', 'POST', 'DELETE'],
      url: '/mcp',
      handler: async (request, reply) => {
        let body: unknown;
        if (request.method === 'POST') {
          const parsed = parsePost(request.headers['content-type'], request.body);
          if ('refusal' in parsed) return sendRefusal(reply, parsed.refusal);
          body = parsed.body;
        }
        reply.hijack();
        await endpoint.handle(request.raw, reply.raw, body, authInfoFor(request.caller!, bearerOf(request.headers.authorization)!));
      },
    });
  });
}

function parsePost(contentType: string | undefined, text: unknown): { body: unknown } | { refusal: BodyRefusal } {
  if (!isJsonContentType(contentType)) {
    return { refusal: { status: 415, code: -32000, message: 'Unsupported Media Type: Content-Type must be application/json' } };
  }
  try {
    return { body: JSON.parse(typeof text === 'string' ? text : '') as unknown };
  } catch {
    return { refusal: { status: 400, code: -32700, message: 'Parse error: Invalid JSON' } };
  }
}

function sendRefusal(reply: FastifyReply, refusal: BodyRefusal): FastifyReply {
  return reply.code(refusal.status).header('content-type', 'application/json').send(jsonRpcErrorBody(refusal.code, refusal.message));
}
