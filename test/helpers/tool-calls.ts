import { expect } from 'vitest';
import type { McpClient } from './mcp-clients.js';

/** Calls a tool that must succeed; a failure names the call and its answer. Returns the structured output. */
export async function succeed(client: McpClient, tool: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const answer = await client.call(tool, args);
  expect(answer.isError, `${tool} ${JSON.stringify(args).slice(0, 200)}: ${answer.text}`).toBe(false);
  return answer.structured!;
}
