import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { App } from '../../app.js';
import { correlationIdOf } from '../../core/correlation.js';

/** The REST routes and the operation each one invokes. */
const query = (request: FastifyRequest) => ({ ...(request.query as Record<string, unknown>) });
const idParam = (request: FastifyRequest) => ({ id: (request.params as { id: string }).id });
const body = (request: FastifyRequest) => (request.body && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {});

const routes: { method: 'GET' | 'POST'; url: string; operation: string; input: (request: FastifyRequest) => Record<string, unknown> }[] = [
  { method: 'GET', url: '/api/audit', operation: 'audit_query', input: query },
  { method: 'GET', url: '/api/actions', operation: 'action_list', input: query },
  { method: 'GET', url: '/api/actions/:id', operation: 'action_get', input: idParam },
  { method: 'POST', url: '/api/actions/:id/approve', operation: 'action_approve', input: (request) => ({ ...body(request), ...idParam(request) }) },
  { method: 'POST', url: '/api/actions/:id/reject', operation: 'action_reject', input: (request) => ({ ...body(request), ...idParam(request) }) },
  // Notes: `workspace` (id or name) in the query string or the body, like any argument.
  { method: 'GET', url: '/api/notes', operation: 'note_list', input: query },
  { method: 'GET', url: '/api/notes/search', operation: 'note_search', input: query },
  { method: 'GET', url: '/api/notes/:id', operation: 'note_get', input: (request) => ({ ...query(request), ...idParam(request) }) },
  { method: 'POST', url: '/api/notes', operation: 'note_create', input: body },
  { method: 'POST', url: '/api/notes/:id', operation: 'note_update', input: (request) => ({ ...body(request), ...idParam(request) }) },
  { method: 'GET', url: '/api/tasks', operation: 'task_list', input: query },
];

const headersOf = (request: FastifyRequest) => ({ get: (name: string) => (request.headers[name] as string | undefined) ?? null });

/**
 * REST for humans and tools that are not agents: each route invokes one registry
 * operation, so validation, tenancy and recording are the same as over MCP. The answer is
 * the operation's structured output; errors go through the server's error handler.
 */
export function registerRestApi(fastify: FastifyInstance, app: App): void {
  for (const route of routes) {
    fastify.route({
      method: route.method,
      url: route.url,
      handler: async (request, reply) => {
        const { principal } = request.caller!;
        const correlationId = correlationIdOf(undefined, headersOf(request));
        const idempotencyKey = request.headers['idempotency-key'] as string | undefined;
        const result = await app.registry.invoke(route.operation, route.input(request), {
          principal,
          correlationId,
          signal: AbortSignal.timeout(60_000),
          logger: app.logger.child({ correlationId }),
          ...(idempotencyKey ? { idempotencyKey } : {}),
        });
        return reply.header('x-correlation-id', correlationId).header('x-action-id', result.actionId).send(result.output);
      },
    });
  }
}
