import { publishedJsonSchema } from '../../operations/json-schema.js';
import { canBeHeld, idempotencyKeyPattern, pendingOutput } from '../../operations/registry.js';
import type { RestEndpoint } from './rest-endpoints.js';

type Json = Record<string, unknown>;

const json = (schema: Json) => ({ 'application/json': { schema } });
const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });

/** The refusals any call may meet (the server's error handler answers them all in one shape). */
const ERROR_STATUSES: Record<string, string> = {
  '400': 'Invalid input (E_INVALID_ARGUMENT names the field), or a path outside the workspace',
  '401': 'No valid bearer token',
  '403': 'Refused by role, workspace policy, Host or Origin',
  '404': 'Unknown operation, or something not found in the caller’s tenant (another tenant’s answers alike)',
  '409': 'Conflict: the file changed, an edit did not match, a held action is stale',
  '413': 'Body or content over the limit (E_TOO_LARGE)',
  '429': 'Rate limited; see Retry-After',
};

/** The part of a published input schema that is not taken from the path: what a body or a query string carries. */
function withoutFields(schema: Json, fields: readonly string[]): Json {
  if (fields.length === 0) return schema;
  const properties = Object.fromEntries(Object.entries((schema.properties ?? {}) as Json).filter(([key]) => !fields.includes(key)));
  const required = ((schema.required ?? []) as string[]).filter((key) => !fields.includes(key));
  const { required: _required, ...rest } = schema;
  return { ...rest, properties, ...(required.length > 0 ? { required } : {}) };
}

/** A query parameter per input field; one that takes an object is JSON text. */
function queryParameters(schema: Json): Json[] {
  const required = (schema.required ?? []) as string[];
  return Object.entries((schema.properties ?? {}) as Record<string, Json>).map(([name, property]) => {
    const types = JSON.stringify(property.type ?? property.anyOf ?? '');
    const asJson = types.includes('object') && !types.includes('string');
    return { name, in: 'query', required: required.includes(name), ...(asJson ? { content: json(property) } : { schema: property }) };
  });
}

function operationObject(endpoint: RestEndpoint): Json {
  const { operation } = endpoint.descriptor;
  const properties = (endpoint.input.properties ?? {}) as Record<string, Json>;
  const rest = withoutFields(endpoint.input, endpoint.pathFields);
  const parameters = [
    ...endpoint.pathFields.map((name) => ({ name, in: 'path', required: true, schema: properties[name] })),
    ...(endpoint.inputFrom === 'query' ? queryParameters(rest) : []),
    // Reads take no key: they have no effect to repeat.
    ...('idempotency_key' in properties ? [ref('parameters', 'IdempotencyKey')] : []),
  ];
  const headers = { 'x-correlation-id': ref('headers', 'CorrelationId'), 'x-action-id': ref('headers', 'ActionId') };
  const responses: Json = { '200': { description: 'The operation’s output', headers, content: json(publishedJsonSchema(operation.output, 'output')) } };
  if (canBeHeld(operation)) responses['202'] = { description: 'Held for approval under the workspace’s policy', headers, content: json(ref('schemas', 'PendingApproval')) };
  for (const status of Object.keys(ERROR_STATUSES)) responses[status] = ref('responses', `Error${status}`);
  responses.default = ref('responses', 'Error');
  return {
    operationId: endpoint.operationId,
    summary: operation.title,
    description: operation.description,
    // The area an operation belongs to, by the first word of its name: file, note, action, …
    tags: [operation.name.split('_')[0]!],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(endpoint.inputFrom === 'body' ? { requestBody: { required: ((rest.required ?? []) as string[]).length > 0, content: json(rest) } } : {}),
    responses,
    'x-codebuddy-effect': operation.effect,
    ...(operation.roles ? { 'x-codebuddy-roles': operation.roles } : {}),
  };
}

/**
 * The OpenAPI 3.1 document of the REST face, generated from the same endpoints the face
 * registers, with the same JSON Schemas MCP's tool list shows (zod → `z.toJSONSchema`,
 * compacted alike in `operations/json-schema.ts`). Built once at start.
 */
export function openApiDocument(endpoints: readonly RestEndpoint[], version: string): Json {
  const paths: Record<string, Json> = {};
  for (const endpoint of endpoints) {
    paths[endpoint.path] = { ...paths[endpoint.path], [endpoint.method.toLowerCase()]: operationObject(endpoint) };
  }
  const errorBody = {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: { code: { type: 'string', pattern: '^E_[A-Z_]+$' }, message: { type: 'string' }, field: { type: 'string', description: 'The input field at fault' } },
      },
    },
  };
  const errorResponse = (description: string) => ({ description, content: json(ref('schemas', 'Error')) });
  return {
    openapi: '3.1.0',
    info: {
      title: 'CodeBuddy',
      version,
      description:
        'Every operation at POST /api/ops/{name} (JSON body: its input; none means {}), some also at a resource route. ' +
        '200: the output; 202: held for approval; errors: {"error": {"code", "message", "field"?}}.',
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API token (cb_tok_…) or a JWT' } },
      schemas: { Error: errorBody, PendingApproval: publishedJsonSchema(pendingOutput, 'output') },
      responses: {
        Error: errorResponse('Any other refusal or failure'),
        ...Object.fromEntries(Object.entries(ERROR_STATUSES).map(([status, description]) => [`Error${status}`, errorResponse(description)])),
      },
      parameters: {
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description: 'A retry with the same key gets the first call’s outcome instead of a second effect',
          schema: { type: 'string', pattern: idempotencyKeyPattern.source },
        },
      },
      headers: {
        CorrelationId: { description: 'Joins the call to its audit events (from traceparent or X-Correlation-Id, else new)', schema: { type: 'string' } },
        ActionId: { description: 'The action the call is recorded as', schema: { type: 'string' } },
      },
    },
  };
}
