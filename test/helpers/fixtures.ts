import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { McpClient } from './mcp-clients.js';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

function filesBelow(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesBelow(join(directory, entry.name)) : [join(directory, entry.name)]));
}

/** Copies a fixture project into a workspace through file_write, as an agent would (owner and all). */
export async function copyFixture(agent: McpClient, fixture: string, workspace: string, into = ''): Promise<void> {
  const base = join(FIXTURES, fixture);
  for (const file of filesBelow(base)) {
    const path = join(into, relative(base, file));
    const written = await agent.call('file_write', { workspace, path, content: readFileSync(file, 'utf8') });
    if (written.isError) throw new Error(`copying ${path}: ${written.text}`);
  }
}
