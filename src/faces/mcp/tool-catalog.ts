import { z } from 'zod';
import type { OperationRegistry } from '../../operations/registry.js';

export interface ToolDefinition {
  name: string;
  description: string;
  inputSchema: Record<string, unknown> & { type: 'object' };
  outputSchema: Record<string, unknown> & { type: 'object' };
  annotations: { readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean; openWorldHint: boolean };
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> & { type: 'object' } {
  // `$schema` is the same URL on every tool: agents would pay for it once per tool, for nothing.
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest as Record<string, unknown> & { type: 'object' };
}

/** The MCP tool list, derived once from the operations registry. */
export function buildToolCatalog(registry: OperationRegistry): ToolDefinition[] {
  return registry.list().map(({ operation, input }) => ({
    name: operation.name,
    description: operation.description,
    inputSchema: jsonSchema(input, 'input'),
    outputSchema: jsonSchema(operation.output, 'output'),
    annotations: {
      readOnlyHint: operation.effect === 'read',
      destructiveHint: operation.destructive,
      idempotentHint: operation.idempotent,
      // Everything acts inside the workspace, not on the open world.
      openWorldHint: false,
    },
  }));
}
