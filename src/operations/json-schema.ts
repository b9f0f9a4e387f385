import { z } from 'zod';

/** A JSON Schema as faces publish it; the root is always an object. */
export type PublishedSchema = Record<string, unknown> & { type: 'object' };

/**
 * Drops what costs every session tokens and tells an agent nothing it needs: bounds no
 * reasonable call reaches (the safe-integer range, lengths in the hundreds) and "not
 * empty". The registry still enforces every bound on input. On outputs, also what the
 * schema says twice: `type` beside a `const`, and `type: object` on the branches of a
 * union of objects (the root says it).
 *
 * `additionalProperties: false` stays on input schemas, where zod emits it for the objects
 * the registry parses strictly: an advertised schema must not accept what the server then
 * refuses. On outputs it only constrains what we send, so it goes.
 *
 * A nullable primitive comes out of zod as `type: [T, "null"]`; clients that map schemas
 * onto a single-`type` dialect (Gemini's OpenAPI subset) reject or drop that, so it is
 * spelled as `anyOf` branches instead.
 */
function compact(node: unknown, io: 'input' | 'output'): unknown {
  if (Array.isArray(node)) return node.map((child) => compact(child, io));
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  const record = node as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    if (key === '$schema') continue;
    if (key === 'maximum' && value === Number.MAX_SAFE_INTEGER) continue;
    if (key === 'minimum' && value === Number.MIN_SAFE_INTEGER) continue;
    if (key === 'maxLength' && typeof value === 'number' && value >= 200) continue;
    if (key === 'minLength' && value === 1) continue;
    if (io === 'output') {
      if (key === 'additionalProperties') continue;
      if (key === 'type' && 'const' in record) continue;
    }
    out[key] = compact(value, io);
  }
  return Array.isArray(out.type) ? typeUnionAsAnyOf(out) : out;
}

/** `{type: ["string","null"], description}` → `{anyOf: [{type: "string"}, {type: "null"}], description}`. */
function typeUnionAsAnyOf(node: Record<string, unknown>): Record<string, unknown> {
  const { type, description, ...constraints } = node as { type: string[]; description?: string };
  const branches = type.map((one) => (one === 'null' ? { type: 'null' } : { type: one, ...constraints }));
  return { ...(description === undefined ? {} : { description }), anyOf: branches };
}

/**
 * An operation's input or output as JSON Schema (2020-12), the one rendering every face
 * publishes: MCP's tool list and the REST face's OpenAPI document show the same schema.
 */
export function publishedJsonSchema(schema: z.ZodType, io: 'input' | 'output'): PublishedSchema {
  const json = compact(z.toJSONSchema(schema, { io, unrepresentable: 'any' }), io) as Record<string, unknown>;
  // MCP wants `type: object` at the root; a union of object shapes comes out as a bare anyOf,
  // whose branches need not say `type: object` again once the root does (outputs only:
  // clients that map inputs onto a single-`type` dialect want `type` on every node).
  if (io === 'output' && Array.isArray(json.anyOf)) json.anyOf = json.anyOf.map((branch: Record<string, unknown>) => (branch.type === 'object' ? withoutType(branch) : branch));
  return { type: 'object', ...json } as PublishedSchema;
}

function withoutType({ type: _type, ...rest }: Record<string, unknown>): Record<string, unknown> {
  return rest;
}
