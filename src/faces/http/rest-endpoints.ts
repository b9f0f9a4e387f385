import { publishedJsonSchema, type PublishedSchema } from '../../operations/json-schema.js';
import type { OperationDescriptor, OperationRegistry } from '../../operations/registry.js';

/** Where every operation is served over REST: `POST /api/ops/<name>`. */
export const OPERATION_PREFIX = '/api/ops/';

/** One REST route: the operation it invokes and where its input comes from. */
export interface RestEndpoint {
  method: 'GET' | 'POST';
  /** As OpenAPI spells it: `/api/notes/{id}`. */
  path: string;
  /** As fastify spells it: `/api/notes/:id`. */
  url: string;
  /** Unique in the OpenAPI document: the operation's name at `/api/ops/<name>`, `<name>.route` at its declared route. */
  operationId: string;
  descriptor: OperationDescriptor;
  /** Input fields taken from the path. */
  pathFields: string[];
  /** The rest of the input: the JSON body of a POST, the query string of a GET. */
  inputFrom: 'body' | 'query';
  /** The operation's full input (`workspace` and `idempotency_key` included) as published. */
  input: PublishedSchema;
}

const PATH_FIELD = /\{([^}]+)\}/g;

/**
 * The REST surface as data, generated from the registry: every operation at
 * `POST /api/ops/<name>`, and at the resource route its definition declares (`rest`), if
 * any. The face registers these and the OpenAPI document describes these, so the two
 * cannot disagree. A declared route is checked here, at start: its path fields must be
 * input fields, and no two operations may claim one method and path.
 */
export function restEndpoints(registry: OperationRegistry): RestEndpoint[] {
  const endpoints: RestEndpoint[] = [];
  const claimed = new Map<string, string>();
  for (const descriptor of registry.list()) {
    const { operation } = descriptor;
    const input = publishedJsonSchema(descriptor.input, 'input');
    endpoints.push({ method: 'POST', path: `${OPERATION_PREFIX}${operation.name}`, url: `${OPERATION_PREFIX}${operation.name}`, operationId: operation.name, descriptor, pathFields: [], inputFrom: 'body', input });
    if (!operation.rest) continue;
    const { method, path } = operation.rest;
    const pathFields = [...path.matchAll(PATH_FIELD)].map((match) => match[1]!);
    const fields = Object.keys(descriptor.input.shape);
    const unknown = pathFields.find((field) => !fields.includes(field));
    if (unknown !== undefined) throw new Error(`${operation.name}: REST path ${path} names ${unknown}, which is not an input field`);
    if (path.startsWith(OPERATION_PREFIX)) throw new Error(`${operation.name}: REST path ${path} is under ${OPERATION_PREFIX}, where every operation is served already`);
    const url = path.replace(PATH_FIELD, ':$1');
    // `/api/notes/{id}` and `/api/notes/{note}` are one route to the router.
    const route = `${method} ${path.replace(PATH_FIELD, '{}')}`;
    const other = claimed.get(route);
    if (other !== undefined) throw new Error(`${operation.name}: ${method} ${path} is ${other}'s already`);
    claimed.set(route, operation.name);
    endpoints.push({ method, path, url, operationId: `${operation.name}.route`, descriptor, pathFields, inputFrom: method === 'GET' ? 'query' : 'body', input });
  }
  return endpoints;
}
