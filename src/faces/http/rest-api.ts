import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../app.js';
import { correlationIdOf } from '../../core/correlation.js';
import { CodeBuddyError } from '../../core/errors.js';
import { idempotencyKeyPattern, isHeldAnswer } from '../../operations/registry.js';
import { openApiDocument } from './openapi-document.js';
import { inputFromStrings } from './query-input.js';
import { OPERATION_PREFIX, restEndpoints, type RestEndpoint } from './rest-endpoints.js';

const headersOf = (request: FastifyRequest) => ({ get: (name: string) => (request.headers[name] as string | undefined) ?? null });

/** The caller's Idempotency-Key header; a malformed one is refused rather than ignored, so a retry is never repeated unknowingly. */
function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !idempotencyKeyPattern.test(key)) {
    throw new CodeBuddyError('E_INVALID_ARGUMENT', 'Idempotency-Key: letters, digits, _ . : -, at most 200', { field: 'Idempotency-Key' });
  }
  return key;
}

/** Aborted when the client goes away before its answer is out: a command it started is stopped, as over MCP. */
function cancelledWith(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** A body that is no JSON object (an array, a string) goes on as it is, for validation to refuse; no body is `{}`. */
function bodyOf(request: FastifyRequest): unknown {
  return request.body === undefined || request.body === null ? {} : request.body;
}

/** The input of a call to a declared route: its body or query string, and the fields its path names, which must agree. */
function inputOf(endpoint: RestEndpoint, request: FastifyRequest): unknown {
  const given = endpoint.inputFrom === 'query' ? inputFromStrings(request.query as Record<string, string | string[]>, endpoint.input) : bodyOf(request);
  if (endpoint.pathFields.length === 0) return given;
  if (!given || typeof given !== 'object' || Array.isArray(given)) return given;
  const fromPath = inputFromStrings(request.params as Record<string, string>, endpoint.input);
  for (const [field, value] of Object.entries(fromPath)) {
    if (field in given && (given as Record<string, unknown>)[field] !== value) {
      throw new CodeBuddyError('E_INVALID_ARGUMENT', `${field} is given by the path as ${String(value)} and differs in the request`, { field });
    }
  }
  return { ...given, ...fromPath };
}

/**
 * Methods a generated path refuses with 405 and an `Allow` header when it does not serve them,
 * rather than 404: the path exists. HEAD among them: a GET route runs its operation, so HEAD
 * cannot be answered without running (and recording) it. OPTIONS is left to the browser policy.
 */
const REFUSED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Each generated path (as fastify spells it) and the methods served there. */
function methodsByUrl(endpoints: readonly RestEndpoint[]): Map<string, RestEndpoint['method'][]> {
  const served = new Map<string, RestEndpoint['method'][]>([[`${OPERATION_PREFIX}:operation`, ['POST']]]);
  for (const endpoint of endpoints) {
    if (endpoint.path.startsWith(OPERATION_PREFIX)) continue;
    const methods = served.get(endpoint.url) ?? [];
    if (!methods.includes(endpoint.method)) methods.push(endpoint.method);
    served.set(endpoint.url, methods.sort());
  }
  return served;
}

/**
 * REST for editors, extensions and people: generated from the operation registry
 * (rest-endpoints.ts), so every operation is served and none by a hand-written route.
 * Every call goes through `registry.invoke`, with the validation, roles, tenancy, policy,
 * idempotency and recording of every other face. `GET /openapi.json` describes it all.
 *
 * - `POST /api/ops/<name>`, JSON body = the input (none: `{}`); a name the registry does
 *   not know is refused by the registry (404 E_NOT_FOUND, recorded like any failed call).
 * - the resource routes operations declare (`GET /api/notes/{id}`, …).
 * - 200 with the output; 202 with `pendingOutput` when the call is held for approval;
 *   headers `x-correlation-id`, `x-action-id` (and `x-replay-of` for an idempotent replay);
 *   errors through the server's error handler: `{ error: { code, message, field? } }`.
 * - a method a generated path does not serve (HEAD included) is 405 E_METHOD_NOT_ALLOWED
 *   with `Allow`, before any operation runs: nothing is recorded.
 *
 * In a scope of its own, so its body parsing (JSON only, empty = `{}`) is not the server's.
 */
export async function registerRestApi(fastify: FastifyInstance, app: App): Promise<void> {
  const endpoints = restEndpoints(app.registry);
  const byName = new Map(app.registry.list().map(({ operation }) => [operation.name, operation]));
  // Built on first request, then kept: it changes only with the code, and a server nobody asks
  // for it need not spend start-up time and memory on it. Served to any authenticated caller (it
  // names operations, nothing of a tenant's), through the same Host, Origin and token checks as every route.
  let document: string | undefined;

  const invoke = async (name: string, input: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const correlationId = correlationIdOf(undefined, headersOf(request));
    // Set before the call, so a refusal carries it too.
    void reply.header('x-correlation-id', correlationId);
    const idempotencyKey = idempotencyKeyOf(request);
    const result = await app.registry.invoke(name, input, {
      principal: request.caller!.principal,
      correlationId,
      signal: cancelledWith(reply),
      logger: app.logger.child({ correlationId }),
      ...(idempotencyKey ? { idempotencyKey } : {}),
    });
    void reply.header('x-action-id', result.actionId);
    if (result.replayOf) void reply.header('x-replay-of', result.replayOf);
    const operation = byName.get(name);
    return reply.code(operation && isHeldAnswer(operation, result.output) ? 202 : 200).send(result.output);
  };

  await fastify.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    const parseJson = scope.getDefaultJsonParser('error', 'error');
    // An empty body is no input, `{}`; anything but JSON is refused with 415.
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, text, done) => {
      if ((text as string).trim() === '') return done(null, undefined);
      parseJson(request, text as string, done);
    });

    scope.get('/openapi.json', async (_request, reply) => reply.type('application/json').send((document ??= JSON.stringify(openApiDocument(endpoints, app.version)))));
    // One route for every name: the registry knows the operations, and refuses (and records) any other.
    // No HEAD twin of a GET route (fastify's default): it would run the operation, and record
    // an action, for an answer whose body is thrown away. Such methods are refused instead.
    scope.route({ method: 'POST', url: `${OPERATION_PREFIX}:operation`, exposeHeadRoute: false, handler: async (request, reply) => invoke((request.params as { operation: string }).operation, bodyOf(request), request, reply) });
    for (const endpoint of endpoints.filter((candidate) => !candidate.path.startsWith(OPERATION_PREFIX))) {
      scope.route({ method: endpoint.method, url: endpoint.url, exposeHeadRoute: false, handler: async (request, reply) => invoke(endpoint.descriptor.operation.name, inputOf(endpoint, request), request, reply) });
    }
    for (const [url, served] of methodsByUrl(endpoints)) {
      const allow = served.join(', ');
      scope.route({
        method: REFUSED_METHODS.filter((method) => !served.includes(method as RestEndpoint['method'])),
        url,
        exposeHeadRoute: false,
        handler: async (request) => {
          throw new CodeBuddyError('E_METHOD_NOT_ALLOWED', `${request.method} is not served at ${request.url.split('?')[0]!.slice(0, 200)}: it takes ${allow}; operations are POST /api/ops/<name>, described at /openapi.json`, { allow });
        },
      });
    }
  });
}
