/**
 * Issue 13, point 6: what hosts show people and what clients validate against. Every tool has
 * a human title; an input schema says `additionalProperties: false` wherever the registry
 * refuses unknown fields (an advertised schema must not be looser than what is enforced);
 * the hints follow the spec's meaning; no `type` arrays (less portable than `anyOf`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { APPROVER_TOOLS } from '../helpers/tool-names.js';

describe.each(['2025-11-25', '2026-07-28'] as const)('tool metadata, %s client', (era) => {
  let server: TestServer;
  let client: McpClient;
  let tools: Awaited<ReturnType<McpClient['listTools']>>;

  beforeAll(async () => {
    server = await startTestServer();
    client = await connectHttp(era, server.url, server.token('acme', 'ada', 'approver'));
    tools = await client.listTools();
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
  });

  it('gives every tool a short human title, distinct from the others', () => {
    expect(tools.map((tool) => tool.name).sort()).toEqual(APPROVER_TOOLS);
    for (const tool of tools) {
      expect(tool.title, tool.name).toMatch(/^[A-Z][a-z]+( [a-z]+)*$/);
      expect(tool.title!.length, tool.name).toBeLessThanOrEqual(24);
    }
    expect(new Set(tools.map((tool) => tool.title)).size).toBe(tools.length);
    expect(tools.find((tool) => tool.name === 'file_read')?.title).toBe('Read file');
  });

  it('advertises additionalProperties: false on every input, and the registry refuses an unknown field on every tool', async () => {
    for (const tool of tools) {
      expect((tool.inputSchema as { additionalProperties?: unknown }).additionalProperties, tool.name).toBe(false);
      const answer = await client.call(tool.name, { no_such_field: 1 });
      expect(answer, tool.name).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
      expect(answer.text, tool.name).toContain('no_such_field: unknown field');
    }
  });

  it('marks what overwrites, edits or types into a shell as destructive, and what runs programs as open-world', () => {
    const hints = Object.fromEntries(tools.map((tool) => [tool.name, tool.annotations]));
    for (const name of ['file_write', 'file_edit', 'file_move', 'file_delete', 'exec', 'terminal_write', 'terminal_close', 'workspace_delete', 'policy_set']) {
      expect(hints[name], name).toMatchObject({ destructiveHint: true });
      // False is the spec's default for readOnlyHint: a writer leaves it out.
      expect(hints[name], name).not.toHaveProperty('readOnlyHint');
    }
    for (const name of ['workspace_create', 'terminal_open', 'terminal_resize']) expect(hints[name], name).toMatchObject({ destructiveHint: false });
    const openWorld = tools.filter((tool) => tool.annotations?.openWorldHint === true).map((tool) => tool.name);
    expect(openWorld.sort()).toEqual(['exec', 'terminal_open', 'terminal_write']);
    expect(hints['file_read']).toEqual({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false });
  });

  it('spells nullable fields as anyOf branches, never as a type array', () => {
    const text = JSON.stringify(tools);
    expect(text).not.toMatch(/"type":\[/);
    const exec = tools.find((tool) => tool.name === 'exec')!;
    const shapes = (exec.outputSchema as { anyOf: { properties: Record<string, unknown> }[] }).anyOf;
    expect(shapes[0]!.properties['exit_code']).toEqual({ anyOf: [{ type: 'number' }, { type: 'null' }] });
  });
});
