import { z } from 'zod';
import type { Role } from '../../auth/principal.js';
import type { Operation } from '../../operations/operation.js';
import type { OperationRegistry } from '../../operations/registry.js';

export interface CatalogEntry {
  tool: ToolDefinition;
  /** Who may call it; undefined: every role. */
  roles?: readonly Role[];
}

export interface ToolDefinition {
  name: string;
  title: string;
  description: string;
  inputSchema: Record<string, unknown> & { type: 'object' };
  outputSchema: Record<string, unknown> & { type: 'object' };
  annotations: { readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean; openWorldHint: boolean };
}

/**
 * Drops what costs every session tokens and tells an agent nothing it needs: bounds no
 * reasonable call reaches (the safe-integer range, lengths in the thousands) and "not
 * empty". The registry still enforces every bound on input.
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
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema') continue;
    if (key === 'maximum' && value === Number.MAX_SAFE_INTEGER) continue;
    if (key === 'minimum' && value === Number.MIN_SAFE_INTEGER) continue;
    if (key === 'maxLength' && typeof value === 'number' && value >= 1000) continue;
    if (key === 'minLength' && value === 1) continue;
    if (key === 'additionalProperties' && io === 'output') continue;
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

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> & { type: 'object' } {
  const json = compact(z.toJSONSchema(schema, { io, unrepresentable: 'any' }), io) as Record<string, unknown>;
  // MCP wants `type: object` at the root; a union of object shapes comes out as a bare anyOf.
  return { type: 'object', ...json } as Record<string, unknown> & { type: 'object' };
}

/** The MCP tool list, derived once from the operations registry. */
export function buildToolCatalog(registry: OperationRegistry): CatalogEntry[] {
  return registry.list().map(({ operation, input, output }) => ({
    ...(operation.roles ? { roles: operation.roles } : {}),
    tool: toolOf(operation, input, output),
  }));
}

/**
 * The tools a role may call. A tool it could only be refused is not listed: an agent pays
 * for every tool description on every session. The registry still checks the role.
 */
export function toolsFor(catalog: readonly CatalogEntry[], role: Role): ToolDefinition[] {
  return catalog.filter((entry) => !entry.roles || entry.roles.includes(role)).map((entry) => entry.tool);
}

function toolOf(operation: Operation, input: z.ZodType, output: z.ZodType): ToolDefinition {
  return {
    name: operation.name,
    title: operation.title,
    description: operation.description,
    inputSchema: jsonSchema(input, 'input'),
    outputSchema: jsonSchema(output, 'output'),
    annotations: {
      readOnlyHint: operation.effect === 'read',
      destructiveHint: operation.destructive,
      idempotentHint: operation.idempotent,
      // Files, terminals' records and the ledger are a closed world; programs a command runs may not be.
      openWorldHint: operation.openWorld === true,
    },
  };
}
