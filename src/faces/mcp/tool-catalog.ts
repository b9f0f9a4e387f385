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
  annotations: ToolAnnotations;
}

/** MCP's hints; a writer's `readOnlyHint` and `idempotentHint` are left out when false, their default. */
export interface ToolAnnotations {
  readOnlyHint?: true;
  destructiveHint: boolean;
  idempotentHint?: true;
  openWorldHint: boolean;
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
    annotations: annotationsOf(operation),
  };
}

/**
 * Every hint costs every session tokens, so a writer's false `readOnlyHint` and
 * `idempotentHint` (the spec's defaults) are not spelled out. `destructiveHint` always is, as
 * are a reader's hints: the spec's default for it is true, and a client that ignores
 * `readOnlyHint` must neither take a writer for harmless nor ask before every read.
 */
function annotationsOf(operation: Operation): ToolAnnotations {
  return {
    ...(operation.effect === 'read' ? { readOnlyHint: true } : {}),
    destructiveHint: operation.destructive,
    ...(operation.idempotent ? { idempotentHint: true } : {}),
    // Files, terminals' records and the ledger are a closed world; programs a command runs may not be.
    openWorldHint: operation.openWorld === true,
  };
}
