import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const eras = ['2025-11-25', '2026-07-28'] as const;

describe.each(eras)('MCP over HTTP, %s client', (era) => {
  let server: TestServer;
  let client: McpClient;

  beforeAll(async () => {
    server = await startTestServer();
    client = await connectHttp(era, server.url, server.token('acme', 'ada'));
  });

  afterAll(async () => {
    await client?.close();
    await server?.close();
  });

  it('lists the tools a token may call: approval and policy tools only for approvers', async () => {
    const agentTools = (await client.listTools()).map((tool) => tool.name);
    expect(agentTools).toHaveLength(39);
    expect(agentTools).not.toContain('action_approve');
    const approver = await connectHttp(era, server.url, server.token('acme', 'ana', 'approver'));
    const approverTools = (await approver.listTools()).map((tool) => tool.name);
    await approver.close();
    expect(approverTools).toHaveLength(42);
    expect(approverTools).toEqual(expect.arrayContaining(['action_approve', 'action_reject', 'policy_set']));
  });

  it('creates a workspace and works in it, defaulting to the only workspace', async () => {
    const created = await client.call('workspace_create', { name: 'demo' });
    expect(created.structured).toMatchObject({ name: 'demo', adopted: false, runtime: 'local' });
    expect((await client.call('file_write', { path: 'notes/todo.md', content: '- one\n- two\n' })).isError).toBe(false);
    const read = await client.call('file_read', { path: 'notes/todo.md', workspace: 'demo' });
    expect(read.text).toBe('1\t- one\n2\t- two');
  });

  it('asks for the workspace once there are several', async () => {
    await client.call('workspace_create', { name: 'second' });
    const ambiguous = await client.call('file_list', {});
    expect(ambiguous).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect(ambiguous.meta?.['codebuddy/error']).toMatchObject({ field: 'workspace' });
  });

  it('returns the action id, and the action row carries the correlation id', async () => {
    const answer = await client.call('file_stat', { path: 'notes/todo.md', workspace: 'demo' });
    const actionId = answer.meta?.['codebuddy/action_id'] as string;
    const correlationId = answer.meta?.['codebuddy/correlation_id'] as string;
    expect(actionId).toMatch(/^act_/);
    const row = server.app.actions.findById('acme', actionId);
    expect(row).toMatchObject({ operation: 'file_stat', status: 'succeeded', user_id: 'ada', correlation_id: correlationId, effect: 'read' });
    expect(server.app.actions.findById('globex', actionId)).toBeUndefined();
  });

  it('keeps the audit chain intact across calls', () => {
    expect(server.app.auditChain.verify('acme')).toMatchObject({ ok: true });
  });
});

describe('HTTP endpoints', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer()));
  afterAll(async () => server?.close());

  it('answers /healthz and /readyz', async () => {
    const health = await fetch(new URL('/healthz', server.url));
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(new URL('/readyz', server.url));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
  });

  it('reports not ready once the database is gone', async () => {
    const other = await startTestServer();
    other.app.db.close();
    const ready = await fetch(new URL('/readyz', other.url));
    expect(ready.status).toBe(503);
    await other.http.close();
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    // fetch() will not send a forged Host header; node:http will.
    const status = await new Promise<number>((resolve, reject) => {
      const outgoing = request(server.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.token('acme')}`, host: 'evil.example', 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      });
      outgoing.on('response', (response) => {
        response.resume();
        resolve(response.statusCode!);
      });
      outgoing.on('error', reject);
      outgoing.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
    });
    expect(status).toBe(403);
  });

  it('closes a 2025-era session on DELETE', async () => {
    const token = server.token('acme');
    const init = await fetch(server.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
    });
    const sessionId = init.headers.get('mcp-session-id')!;
    expect(sessionId).toBeTruthy();
    await init.text();
    expect(server.http.mcp.legacySessions).toBeGreaterThanOrEqual(1);
    const before = server.http.mcp.legacySessions;
    const closed = await fetch(server.url, { method: 'DELETE', headers: { authorization: `Bearer ${token}`, 'mcp-session-id': sessionId } });
    expect(closed.status).toBe(200);
    expect(server.http.mcp.legacySessions).toBe(before - 1);
  });
});
