import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, connectStdio, type McpClient } from '../helpers/mcp-clients.js';
import { tempDir } from '../helpers/test-server.js';
import { AGENT_TOOLS } from '../helpers/tool-names.js';

describe('codebuddy serve --stdio', () => {
  const project = tempDir('codebuddy-project-');
  const dataDir = tempDir('codebuddy-data-');
  let client: McpClient & { stderr: () => string };

  beforeAll(async () => {
    mkdirSync(join(project, 'src'));
    writeFileSync(join(project, 'src', 'main.ts'), 'export const answer = 42;\nconsole.log(answer);\n');
    writeFileSync(join(project, '.gitignore'), 'build/\n');
    mkdirSync(join(project, 'build'));
    writeFileSync(join(project, 'build', 'out.js'), 'ignored');
    client = await connectStdio(['--data-dir', dataDir, 'serve', '--stdio', '--workspace', project]);
  });

  afterAll(async () => {
    await client?.close();
  });

  it('lists every tool with schemas, annotations and a one-line description', async () => {
    const tools = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(AGENT_TOOLS);
    for (const tool of tools) {
      expect(tool.description, tool.name).toMatch(/^[^\n]{10,120}$/);
      expect(tool.outputSchema, tool.name).toMatchObject({ type: 'object' });
      expect(tool.inputSchema, tool.name).toMatchObject({ type: 'object' });
    }
    const byName = Object.fromEntries(tools.map((tool) => [tool.name, tool.annotations]));
    expect(byName.file_read).toMatchObject({ readOnlyHint: true, destructiveHint: false, idempotentHint: true });
    // A writer's false readOnlyHint and idempotentHint are the spec's defaults, left out.
    expect(byName.file_delete).toEqual({ destructiveHint: true, openWorldHint: false });
    expect(byName.file_write).toEqual({ destructiveHint: true, idempotentHint: true, openWorldHint: false });
    expect(byName.code_outline).toMatchObject({ readOnlyHint: true, destructiveHint: false, idempotentHint: true });
  });

  it('outlines a file from the built server (the worker and grammars/ found from dist/)', async () => {
    expect((await client.call('code_outline', { path: 'src/main.ts' })).text).toBe('src/main.ts: no symbols');
    const query = await client.call('code_query', { query: '(lexical_declaration (variable_declarator name: (identifier) @name))', glob: 'src/*.ts' });
    expect(query.text).toBe('src/main.ts:1:14  name  export const answer = 42;');
  });

  it('uses the adopted --workspace when a call omits workspace', async () => {
    const read = await client.call('file_read', { path: 'src/main.ts' });
    expect(read.isError).toBe(false);
    expect(read.text).toBe('1\texport const answer = 42;\n2\tconsole.log(answer);');
    expect(read.structured).toMatchObject({ path: 'src/main.ts', total_lines: 2, binary: false });

    const listed = await client.call('file_list', {});
    expect(listed.text.split('\n')).toEqual(['.gitignore 7', 'src/', 'src/main.ts 47']);
  });

  it('writes and edits files on disk through the protocol', async () => {
    const written = await client.call('file_write', { path: 'src/util.ts', content: 'export const two = 2;\n' });
    expect(written.text).toMatch(/^created src\/util\.ts \(22 bytes, sha256 [0-9a-f]{64}\)$/);
    const edited = await client.call('file_edit', { path: 'src/util.ts', edits: [{ old: 'two = 2', new: 'two = 1 + 1' }] });
    expect(edited.isError).toBe(false);
    expect(readFileSync(join(project, 'src', 'util.ts'), 'utf8')).toBe('export const two = 1 + 1;\n');
  });

  it('answers bad arguments with an error naming the field, and keeps serving', async () => {
    const bad = await client.call('file_read', { path: 42 });
    expect(bad).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect(bad.text).toContain('path');
    const unknown = await client.call('file_read', { path: 'src/main.ts', offset: 3 });
    expect(unknown.text).toBe('E_INVALID_ARGUMENT: invalid argument offset: unknown field');
    expect((await client.call('file_stat', { path: 'src/main.ts' })).isError).toBe(false);
  });

  it('records every call, failed ones included, with the local principal', async () => {
    const db = new Database(join(dataDir, 'codebuddy.db'), { readonly: true });
    const rows = db.prepare('SELECT tenant_id, operation, status, error_code, workspace_id FROM actions ORDER BY started_at').all() as Record<string, unknown>[];
    const audit = db.prepare('SELECT count(*) FROM audit_events').pluck().get();
    db.close();
    expect(rows.length).toBeGreaterThanOrEqual(7);
    expect(audit).toBe(rows.length);
    expect(new Set(rows.map((row) => row.tenant_id))).toEqual(new Set(['local']));
    expect(rows).toContainEqual(expect.objectContaining({ operation: 'file_read', status: 'failed', error_code: 'E_INVALID_ARGUMENT' }));
    expect(rows).toContainEqual(expect.objectContaining({ operation: 'file_edit', status: 'succeeded' }));
  });

  it('serves a 2026-07-28 client on stdio too', async () => {
    const modern = await connectStdio(['--data-dir', dataDir, 'serve', '--stdio', '--workspace', project], {}, '2026-07-28');
    try {
      expect(await modern.listTools()).toHaveLength(AGENT_TOOLS.length);
      expect((await modern.call('file_read', { path: 'src/main.ts', limit_lines: 1 })).text).toMatch(/^1\texport const answer = 42;\n\[lines 1-1 of 2; more: call again with cursor "/);
    } finally {
      await modern.close();
    }
  });

  it('keeps stdout for the protocol: logs go to stderr', async () => {
    // Speak raw JSON-RPC to a fresh process and check every stdout line parses as a protocol message.
    const child = spawn(process.execPath, [CLI, '--data-dir', dataDir, 'serve', '--stdio', '--workspace', project], {
      env: { ...process.env, CODEBUDDY_LOG_LEVEL: 'debug' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'file_read', arguments: { path: 'src/main.ts' } } });
    await expect.poll(() => stdout.split('\n').filter(Boolean).length, { timeout: 10_000 }).toBe(2);
    child.stdin.end();
    await new Promise((resolve) => child.on('close', resolve));
    const messages = stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { jsonrpc: string; id: number });
    expect(messages.map((message) => [message.jsonrpc, message.id])).toEqual([['2.0', 1], ['2.0', 2]]);
    expect(stderr).toContain('"msg":"action recorded"');
  });
});
