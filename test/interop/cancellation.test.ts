/**
 * Cancellation recorded as what it is (issue 13, point 8): a cancelled `exec` is an action
 * with status `cancelled` (it was `succeeded`), for the v1 client (notifications/cancelled on
 * a 2025-11-25 session) and the v2 client (2026-07-28: the request itself is aborted); and on
 * a session, the cancelled request's POST stream is closed rather than left open.
 */
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyHttpTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttpTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesWith } from '../helpers/process-table.js';
import { MCP_ACCEPT, messagesOf, openSession, toolsCall } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const running = (marker: string) => processesWith(marker) > 0;

const statusOfExec = (server: TestServer, marker: string) =>
  server.app.db.prepare("SELECT status FROM actions WHERE operation = 'exec' AND arguments_json LIKE ?").pluck().get(`%${marker}%`) as string | undefined;

describe('cancelled calls', () => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer();
    token = server.token('acme', 'ada');
    const setup = new LegacyClient({ name: 'setup', version: '1' });
    await setup.connect(new LegacyHttpTransport(server.url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    await setup.callTool({ name: 'workspace_create', arguments: { name: 'demo' } });
    await setup.close();
  });
  afterAll(async () => server?.close());

  it('2025-11-25: the POST stream of a cancelled request ends, with a final error answer, and the action is cancelled', async () => {
    const sessionId = await openSession(server.url, token);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: MCP_ACCEPT, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
    const call = await fetch(server.url, { method: 'POST', headers, body: JSON.stringify(toolsCall('exec', { command: 'sleep 94.04' }, 7)) });
    expect(call.status).toBe(200);
    const body = call.text();
    await expect.poll(() => running('sleep 94.04'), { timeout: 10_000 }).toBe(true);
    const cancel = await fetch(server.url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7, reason: 'changed my mind' } }) });
    expect(cancel.status).toBe(202);
    // The stream ends (text() resolves) instead of idling on keep-alives.
    const messages = messagesOf(await body);
    expect(messages).toEqual([{ jsonrpc: '2.0', id: 7, error: { code: -32800, message: 'Request cancelled' } }]);
    await expect.poll(() => statusOfExec(server, 'sleep 94.04'), { timeout: 10_000 }).toBe('cancelled');
    // SIGKILL has been sent when the call ends; the kernel takes a moment to remove the process on a loaded machine.
    await expect.poll(() => running('sleep 94.04'), { timeout: 5_000 }).toBe(false);
  });

  it('2025-11-25, the v1 SDK client aborting a call: recorded as cancelled', async () => {
    const client = new LegacyClient({ name: 'canceller', version: '1' });
    await client.connect(new LegacyHttpTransport(server.url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    const controller = new AbortController();
    const call = client.callTool({ name: 'exec', arguments: { command: 'sleep 95.05' } }, undefined, { signal: controller.signal });
    await expect.poll(() => running('sleep 95.05'), { timeout: 10_000 }).toBe(true);
    controller.abort();
    await expect(call).rejects.toThrow();
    await expect.poll(() => statusOfExec(server, 'sleep 95.05'), { timeout: 10_000 }).toBe('cancelled');
    await client.close();
    // The audit trail says so too, and a status filter finds it.
    const audit = new LegacyClient({ name: 'auditor', version: '1' });
    await audit.connect(new LegacyHttpTransport(server.url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    const events = (await audit.callTool({ name: 'audit_query', arguments: { status: 'cancelled' } })).structuredContent as { events: { details: { operation: string; status: string } }[] };
    await audit.close();
    expect(events.events.map((event) => event.details)).toContainEqual(expect.objectContaining({ operation: 'exec', status: 'cancelled' }));
  });

  it('2026-07-28, the v2 SDK client aborting a call: recorded as cancelled', async () => {
    const client = new ModernClient({ name: 'canceller', version: '2' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(new ModernHttpTransport(server.url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    const controller = new AbortController();
    const call = client.callTool({ name: 'exec', arguments: { command: 'sleep 96.06' } }, { signal: controller.signal });
    await expect.poll(() => running('sleep 96.06'), { timeout: 10_000 }).toBe(true);
    controller.abort();
    await expect(call).rejects.toThrow();
    await expect.poll(() => statusOfExec(server, 'sleep 96.06'), { timeout: 10_000 }).toBe('cancelled');
    // SIGKILL has been sent when the call ends; the kernel takes a moment to remove the process on a loaded machine.
    await expect.poll(() => running('sleep 96.06'), { timeout: 5_000 }).toBe(false);
    await client.close();
  });

  it('control: a command that finishes is succeeded', async () => {
    const client = new LegacyClient({ name: 'plain', version: '1' });
    await client.connect(new LegacyHttpTransport(server.url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    await client.callTool({ name: 'exec', arguments: { command: 'echo 97.07' } });
    await client.close();
    expect(statusOfExec(server, 'echo 97.07')).toBe('succeeded');
  });
});
