/**
 * Streamable HTTP as the spec has it, where the SDK's adapter and fastify fell short
 * (issue 13): transport-level refusals are JSON-RPC errors (point 5); a GET stream's headers
 * come at once and a dropped one does not block the next (point 3).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_ACCEPT, openSession, postMcp, rawRequest } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe('transport-level refusals on /mcp are JSON-RPC errors', () => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer();
    token = server.token('acme', 'ada');
  });
  afterAll(async () => server?.close());

  const post = (body: string, contentType?: string) =>
    rawRequest(server.url, { method: 'POST', headers: { authorization: `Bearer ${token}`, accept: MCP_ACCEPT, ...(contentType === undefined ? {} : { 'content-type': contentType }) }, body });

  it.each([
    { label: 'malformed JSON', body: '{"jsonrpc":"2.0",', contentType: 'application/json', status: 400, code: -32700 },
    { label: 'an empty JSON body', body: '', contentType: 'application/json', status: 400, code: -32700 },
    { label: 'text/plain', body: '{}', contentType: 'text/plain', status: 415, code: -32000 },
    { label: 'no content type', body: '{}', contentType: undefined, status: 415, code: -32000 },
    { label: 'a JSON look-alike type', body: '{}', contentType: 'application/jsonp', status: 415, code: -32000 },
  ])('$label → $status with JSON-RPC $code', async ({ body, contentType, status, code }) => {
    const answer = await post(body, contentType);
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(answer.text)).toEqual({ jsonrpc: '2.0', error: { code, message: expect.any(String) }, id: null });
  });

  it('a body over the limit is a JSON-RPC 413 too', async () => {
    const small = await startTestServer({ maxFileBytes: 1024 });
    try {
      const answer = await rawRequest(small.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${small.token('acme')}`, accept: MCP_ACCEPT, 'content-type': 'application/json' },
        body: JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }),
      });
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.text)).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 }, id: null });
    } finally {
      await small.close();
    }
  });

  it('control: application/json with a charset is JSON', async () => {
    const answer = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }), 'application/json; charset=utf-8');
    expect(answer.status).toBe(200);
  });

  it('refusals of the shared hooks keep the server-wide shape (401 here)', async () => {
    const answer = await rawRequest(server.url, { method: 'POST', headers: { accept: MCP_ACCEPT, 'content-type': 'application/json' }, body: '{}' });
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'E_UNAUTHENTICATED' } });
  });
});

describe('GET /mcp streams', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer()));
  afterAll(async () => server?.close());

  const openGet = (token: string, sessionId: string, signal: AbortSignal) =>
    fetch(server.url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' }, signal });

  it('sends the SSE headers at once, not with the first keep-alive (15 s)', async () => {
    const token = server.token('acme', 'ada');
    const sessionId = await openSession(server.url, token);
    const abort = new AbortController();
    const started = performance.now();
    // fetch resolves once the status line and headers are in.
    const stream = await openGet(token, sessionId, abort.signal);
    const elapsed = performance.now() - started;
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    expect(elapsed).toBeLessThan(5_000);
    abort.abort();
  });

  it('notices a dropped GET stream without waiting for a write: the next GET is served, not refused with 409', async () => {
    const token = server.token('acme', 'bo');
    const sessionId = await openSession(server.url, token);
    const first = new AbortController();
    expect((await openGet(token, sessionId, first.signal)).status).toBe(200);
    // While it is open, a second one is refused: one GET stream per session.
    const second = new AbortController();
    const refused = await openGet(token, sessionId, second.signal);
    expect(refused.status).toBe(409);
    await refused.text();
    first.abort();
    // The server learns of the drop from the socket's close; the next keep-alive (which the
    // adapter used to wait for) is 15 s away: well before it, a new GET must be served.
    const deadline = performance.now() + 10_000;
    let status = 0;
    while (performance.now() < deadline) {
      const again = new AbortController();
      const answer = await openGet(token, sessionId, again.signal);
      status = answer.status;
      again.abort();
      if (status === 200) break;
      await answer.text().catch(() => undefined);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(status).toBe(200);
  });
});
