/**
 * Row 10 of the hostile review: Host and Origin were checked on `/mcp` only, so `/api/*`
 * and the terminal WebSocket answered `Host: evil.com` and `Origin: http://evil.com`;
 * bodies of ~21 MB were parsed before authentication. Every route and upgrade now passes
 * one chain of hooks: security headers, Host and Origin, CORS when configured,
 * authentication before the body, rate limits.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connectLegacyHttp } from '../helpers/mcp-clients.js';
import { initializeMessage, MCP_ACCEPT, rawRequest } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const WS_UPGRADE = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' };

/** Every kind of route the server has, as a raw request with a valid token. */
function everyRoute(token: string): { label: string; method: string; path: string; headers: Record<string, string>; body?: string }[] {
  const auth = { authorization: `Bearer ${token}` };
  return [
    { label: 'POST /mcp', method: 'POST', path: '/mcp', headers: { ...auth, 'content-type': 'application/json', accept: MCP_ACCEPT }, body: JSON.stringify(initializeMessage) },
    { label: 'GET /api/audit', method: 'GET', path: '/api/audit', headers: auth },
    { label: 'GET /api/actions', method: 'GET', path: '/api/actions', headers: auth },
    { label: 'POST /api/actions/:id/approve', method: 'POST', path: '/api/actions/act_00000000000000000000000000/approve', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' },
    { label: 'GET /ws/terminals/:id (upgrade)', method: 'GET', path: '/ws/terminals/term_x', headers: { ...auth, ...WS_UPGRADE } },
    { label: 'GET /healthz', method: 'GET', path: '/healthz', headers: {} },
    { label: 'GET /readyz', method: 'GET', path: '/readyz', headers: {} },
  ];
}

describe('Host and Origin on every route', () => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer();
    token = server.token('acme', 'ada', 'approver');
  });
  afterAll(async () => server?.close());

  it.each<{ label: string; headers: Record<string, string> }>([
    { label: 'Host: evil.com', headers: { host: 'evil.com' } },
    { label: 'Host: evil.com:port', headers: { host: 'evil.com:7420' } },
    { label: 'Origin: http://evil.com', headers: { origin: 'http://evil.com' } },
    { label: 'Origin: null', headers: { origin: 'null' } },
    { label: 'an Origin of another local app (other port)', headers: { origin: 'http://127.0.0.1:1' } },
  ])('$label is refused with 403 on every route, upgrades and health included, and nothing is recorded', async ({ headers }) => {
    const before = server.app.auditChain.query('acme', {}, 0, 1000).length;
    for (const route of everyRoute(token)) {
      const answer = await rawRequest(new URL(route.path, server.url), { method: route.method, headers: { ...route.headers, ...headers }, ...(route.body ? { body: route.body } : {}) });
      expect(answer.status, `${route.label}: ${answer.text}`).toBe(403);
      expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'E_FORBIDDEN' } });
    }
    expect(server.app.auditChain.query('acme', {}, 0, 1000)).toHaveLength(before);
    expect(server.http.mcp.legacySessions).toBe(0);
  });

  it('control: no Origin (non-browser clients) and the server’s own origin pass', async () => {
    const own = `http://127.0.0.1:${server.url.port}`;
    for (const origin of [undefined, own, `http://localhost:${server.url.port}`]) {
      const answer = await rawRequest(new URL('/api/audit', server.url), { headers: { authorization: `Bearer ${token}`, ...(origin ? { origin } : {}) } });
      expect(answer.status, `${origin}: ${answer.text}`).toBe(200);
    }
    expect((await rawRequest(new URL('/healthz', server.url), { headers: { origin: own } })).status).toBe(200);
  });

  it('a WebSocket from a foreign origin is refused at the handshake; a local one is served (4404: no such terminal)', async () => {
    const base = `ws://${server.url.host}/ws/terminals/term_missing?token=${token}`;
    const foreign = new WebSocket(base, { headers: { origin: 'http://evil.com' } });
    foreign.on('error', () => undefined);
    const status = await new Promise<number>((resolve) => foreign.on('unexpected-response', (_request, response) => resolve(response.statusCode!)));
    expect(status).toBe(403);
    const local = new WebSocket(base, { headers: { origin: `http://127.0.0.1:${server.url.port}` } });
    expect(await new Promise((resolve) => local.on('close', (code) => resolve(code)))).toBe(4404);
    // Unauthenticated viewers are still told on the socket, where a browser can read it.
    const anonymous = new WebSocket(`ws://${server.url.host}/ws/terminals/term_missing`);
    expect(await new Promise((resolve) => anonymous.on('close', (code) => resolve(code)))).toBe(4401);
  });
});

describe('bodies, headers, CORS and rate limits', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer({ requestsPerMinute: 20 })));
  afterAll(async () => server?.close());

  it('a 21 MB body without credentials is refused with 401 from its headers: quickly, unread, and memory stays flat', async () => {
    const size = 21 * 1024 * 1024;
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    const outcome = await new Promise<{ status: number | undefined; written: number; ms: number }>((resolve) => {
      let written = 0;
      let status: number | undefined;
      const finish = () => resolve({ status, written, ms: performance.now() - started });
      const outgoing = request(server.url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(size), accept: MCP_ACCEPT } });
      const pump = () => {
        while (written < size && status === undefined) {
          written += chunk.length;
          if (!outgoing.write(chunk)) return void outgoing.once('drain', pump);
        }
        if (written >= size) outgoing.end();
      };
      outgoing.on('response', (response) => {
        status = response.statusCode;
        response.resume();
        response.on('end', finish);
      });
      // The server closes the connection after its answer: writing on is refused.
      outgoing.on('error', () => setTimeout(finish, 50));
      pump();
    });
    expect(outcome.status).toBe(401);
    expect(outcome.ms).toBeLessThan(3000);
    // The connection was closed rather than read to the end on behalf of keep-alive.
    expect(outcome.written).toBeLessThan(size);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(16 * 1024 * 1024);
  });

  it('answers carry security headers, the hijacked MCP answers and SSE streams included, and SSE still works', async () => {
    const token = server.token('acme', 'ada');
    const rest = await fetch(new URL('/api/audit', server.url), { headers: { authorization: `Bearer ${token}` } });
    const mcp = await fetch(server.url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: MCP_ACCEPT }, body: JSON.stringify(initializeMessage) });
    await mcp.text();
    for (const answer of [rest, mcp]) {
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(answer.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      // CORS is off unless configured.
      expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    }
    const client = await connectLegacyHttp(server.url, token);
    expect((await client.call('workspace_list')).text).toBe('no workspaces');
    await client.close();
  });

  it('limits requests per credential: over requestsPerMinute answers 429 with Retry-After; other credentials go on', async () => {
    const token = server.token('acme', 'busy');
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) statuses.push((await fetch(new URL('/api/actions', server.url), { headers: { authorization: `Bearer ${token}` } })).status);
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(200));
    expect(statuses.slice(20)).toEqual([429, 429]);
    const limited = await fetch(new URL('/api/actions', server.url), { headers: { authorization: `Bearer ${token}` } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ error: { code: 'E_RATE_LIMITED' } });
    expect((await fetch(new URL('/api/actions', server.url), { headers: { authorization: `Bearer ${server.token('acme', 'calm')}` } })).status).toBe(200);
  });
});

describe('allowedOrigins', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer({ allowedOrigins: ['https://ui.example.com'] })));
  afterAll(async () => server?.close());

  it('lets the configured origin in with CORS (preflight answered before authentication), and no other', async () => {
    const token = server.token('acme', 'ada');
    const preflight = await fetch(new URL('/api/audit', server.url), {
      method: 'OPTIONS',
      headers: { origin: 'https://ui.example.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://ui.example.com');
    const allowed = await fetch(new URL('/api/audit', server.url), { headers: { authorization: `Bearer ${token}`, origin: 'https://ui.example.com' } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://ui.example.com');
    expect(allowed.headers.get('access-control-expose-headers')).toContain('mcp-session-id');
    for (const origin of ['https://evil.example.com', 'http://ui.example.com']) {
      const refused = await fetch(new URL('/api/audit', server.url), { headers: { authorization: `Bearer ${token}`, origin } });
      expect(refused.status, origin).toBe(403);
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});
