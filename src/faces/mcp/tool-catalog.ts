import type { z } from 'zod';
import type { Role } from '../../auth/principal.js';
import type { Operation } from '../../operations/operation.js';
import { publishedJsonSchema, type PublishedSchema } from '../../operations/json-schema.js';
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
  inputSchema: PublishedSchema;
  outputSchema: PublishedSchema;
  annotations: { readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean; openWorldHint: boolean };
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
    inputSchema: publishedJsonSchema(input, 'input'),
    outputSchema: publishedJsonSchema(output, 'output'),
    annotations: {
      readOnlyHint: operation.effect === 'read',
      destructiveHint: operation.destructive,
      idempotentHint: operation.idempotent,
      // Files, terminals' records and the ledger are a closed world; programs a command runs may not be.
      openWorldHint: operation.openWorld === true,
    },
  };
}
