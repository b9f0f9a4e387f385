import { z } from 'zod';
import type { OperationRegistry } from '../../operations/registry.js';

export interface ToolDefinition {
  name: string;
  description: string;
  inputSchema: Record<string, unknown> & { type: 'object' };
  outputSchema: Record<string, unknown> & { type: 'object' };
  annotations: { readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean; openWorldHint: boolean };
}

/**
 * Drops what costs every session tokens and tells an agent nothing it needs: bounds no
 * reasonable call reaches (the safe-integer range, lengths in the thousands) and, on
 * outputs, `additionalProperties`. The registry still enforces every bound on input.
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
    if (key === 'additionalProperties' && io === 'output') continue;
    out[key] = compact(value, io);
  }
  return out;
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> & { type: 'object' } {
  const json = compact(z.toJSONSchema(schema, { io, unrepresentable: 'any' }), io) as Record<string, unknown>;
  // MCP wants `type: object` at the root; a union of object shapes comes out as a bare anyOf.
  return { type: 'object', ...json } as Record<string, unknown> & { type: 'object' };
}

/** The MCP tool list, derived once from the operations registry. */
export function buildToolCatalog(registry: OperationRegistry): ToolDefinition[] {
  return registry.list().map(({ operation, input, output }) => ({
    name: operation.name,
    description: operation.description,
    inputSchema: jsonSchema(input, 'input'),
    outputSchema: jsonSchema(output, 'output'),
    annotations: {
      readOnlyHint: operation.effect === 'read',
      destructiveHint: operation.destructive,
      idempotentHint: operation.idempotent,
      // Everything acts inside the workspace, not on the open world.
      openWorldHint: false,
    },
  }));
}
