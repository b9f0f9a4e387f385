/**
 * Resumability on 2025-11-25 sessions (issue 13, point 7): SSE events carry ids, each POST
 * stream opens with a priming event and `retry`, and a client that reconnects with
 * `Last-Event-ID` gets what it missed. The stream is cut mid-call by a loopback proxy, as a
 * network would cut it, under the v1 SDK client, which resumes by itself.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_ACCEPT, openSession, toolsCall } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { startLoopbackProxy } from './helpers/loopback-proxy.js';

describe('resumable 2025-11-25 sessions', () => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer();
    token = server.token('acme', 'ada');
    const setup = new Client({ name: 'setup', version: '1' });
    await setup.connect(new StreamableHTTPClientTransport(server.url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    await setup.callTool({ name: 'workspace_create', arguments: { name: 'demo' } });
    await setup.close();
  });
  afterAll(async () => server?.close());

  it('opens a POST stream with a priming event: an id and retry, before anything else', async () => {
    const sessionId = await openSession(server.url, token);
    const answer = await fetch(server.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: MCP_ACCEPT, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify(toolsCall('file_list', {})),
    });
    const text = await answer.text();
    const events = text.split('\n\n').filter(Boolean);
    expect(events[0]).toMatch(/^id: [0-9a-f-]{36}\.\d+\nretry: 1000\ndata: $/);
    expect(events[1]).toMatch(/^event: message\nid: [0-9a-f-]{36}\.\d+\ndata: \{"result"/);
  });

  it('a stream cut mid-call is resumed by the v1 client with Last-Event-ID, and the call runs once', async () => {
    const proxy = await startLoopbackProxy(server.url, { cut: ({ method, rpcMethod }) => method === 'POST' && rpcMethod === 'tools/call' });
    try {
      const client = new Client({ name: 'resumer', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(proxy.url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
      const result = await client.callTool({ name: 'exec', arguments: { command: 'sleep 1.5; echo survived the cut', workspace: 'demo' } });
      await client.close();
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ exit_code: 0, stdout: 'survived the cut\n', cancelled: false });
      const post = proxy.exchanges.find((exchange) => exchange.rpcMethod === 'tools/call')!;
      expect(post).toMatchObject({ status: 200, cut: true });
      const resumed = proxy.exchanges.filter((exchange) => exchange.method === 'GET' && exchange.lastEventId !== undefined);
      expect(resumed.length).toBeGreaterThanOrEqual(1);
      expect(resumed[0]).toMatchObject({ status: 200, lastEventId: expect.stringMatching(/^[0-9a-f-]{36}\.\d+$/) });
      const actionId = result._meta?.['codebuddy/action_id'] as string;
      expect(server.app.actions.findById('acme', actionId)).toMatchObject({ operation: 'exec', status: 'succeeded' });
      const runs = server.app.db.prepare("SELECT count(*) FROM actions WHERE operation = 'exec' AND arguments_json LIKE '%survived the cut%'").pluck().get();
      expect(runs).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it('an event id the session does not know (or no longer keeps) is refused, not answered with another stream', async () => {
    const sessionId = await openSession(server.url, token);
    const answer = await fetch(server.url, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25', 'last-event-id': '00000000-0000-0000-0000-000000000000.1' },
    });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 } });
  });
});
