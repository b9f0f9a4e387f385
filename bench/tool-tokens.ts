import { getEncoding, type Tiktoken } from 'js-tiktoken';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { RunningServer } from './mcp-servers.js';

/**
 * What a tool list costs an agent: every session's context carries the whole `tools`
 * array. Both lists come from the client's listTools (all pages) and are counted the
 * same way: JSON.stringify of the array, encoded with one tokenizer.
 */
export interface ToolListTokens {
  server: string;
  tools: number;
  tokens: number;
  perTool: Array<{ name: string; tokens: number }>;
  /** Tokens by part of a tool definition, each part serialized on its own and summed over tools. */
  byPart: Record<ToolPart, number>;
}

export const TOOL_PARTS = ['name, title, description', 'inputSchema', 'outputSchema', 'annotations and other fields'] as const;
type ToolPart = (typeof TOOL_PARTS)[number];

function parts(tool: Tool): Record<ToolPart, unknown> {
  const { name, title, description, inputSchema, outputSchema, ...other } = tool;
  return {
    'name, title, description': { name, title, description },
    inputSchema,
    outputSchema: outputSchema ?? null,
    'annotations and other fields': other,
  };
}

export interface ToolTokenComparison {
  encoding: string;
  /** Our file and workspace tools: what the reference server offers too (issue 2's target). */
  ours: ToolListTokens;
  /** Everything an agent token sees, audit, actions and policy included. */
  oursWhole: ToolListTokens;
  reference: ToolListTokens;
}

/** Issue 2's tool list: the set its token target was set for, and what the reference covers. */
const FOUNDATION_TOOLS = new Set([
  'workspace_create',
  'workspace_list',
  'workspace_get',
  'workspace_delete',
  'file_read',
  'file_write',
  'file_edit',
  'file_list',
  'file_glob',
  'file_search',
  'file_move',
  'file_delete',
  'file_stat',
]);
const isFoundationTool = (tool: Tool) => FOUNDATION_TOOLS.has(tool.name);

/** o200k_base (GPT-4o family) when this js-tiktoken ships it, cl100k_base otherwise. */
function encoder(): { name: string; encoding: Tiktoken } {
  try {
    return { name: 'o200k_base', encoding: getEncoding('o200k_base') };
  } catch {
    return { name: 'cl100k_base', encoding: getEncoding('cl100k_base') };
  }
}

async function listAllTools(server: RunningServer): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  do {
    const page = await server.client.listTools(cursor === undefined ? {} : { cursor });
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return tools;
}

function count(server: string, tools: Tool[], encoding: Tiktoken): ToolListTokens {
  const byPart = Object.fromEntries(TOOL_PARTS.map((part) => [part, 0])) as Record<ToolPart, number>;
  for (const tool of tools) {
    for (const [part, value] of Object.entries(parts(tool)) as Array<[ToolPart, unknown]>) {
      if (value !== null && value !== undefined) byPart[part] += encoding.encode(JSON.stringify(value)).length;
    }
  }
  return {
    byPart,
    server,
    tools: tools.length,
    tokens: encoding.encode(JSON.stringify(tools)).length,
    perTool: tools.map((tool) => ({ name: tool.name, tokens: encoding.encode(JSON.stringify(tool)).length })),
  };
}

export async function benchToolTokens(ours: RunningServer, reference: RunningServer): Promise<ToolTokenComparison> {
  const { name, encoding } = encoder();
  const ourTools = await listAllTools(ours);
  return {
    encoding: name,
    ours: count(`${ours.name} (file and workspace tools)`, ourTools.filter(isFoundationTool), encoding),
    oursWhole: count(`${ours.name} (whole list, agent token)`, ourTools, encoding),
    reference: count(reference.name, await listAllTools(reference), encoding),
  };
}
