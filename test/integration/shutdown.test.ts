/**
 * Shutdown is graceful but bounded (issue: `fastify.close()` hung after a cancelled call).
 * The cause: `server.close()` waits for every socket, and Node's `closeIdleConnections()`
 * closes only sockets that finished a request; a socket that connected and sent nothing (or
 * part of its headers) counted as busy and held shutdown for good (over 150 s measured).
 * Undici's pool left one such socket behind after an aborted call, so a SIGTERM'd
 * `codebuddy serve` did not exit. WebSocket peers that never answer the close frame held it for 30 s (ws's own
 * close timeout). Every case here drives real clients against a real server.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyHttpTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttpTransport } from '@modelcontextprotocol/client';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, connectModernHttp } from '../helpers/mcp-clients.js';
import { processesWith } from '../helpers/process-table.js';
import { MCP_ACCEPT, openSession } from '../helpers/raw-http.js';
import { startServeProcess } from '../helpers/serve-process.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/test-server.js';

/** What a shutdown may take here at most, on a loaded machine: the grace (2 s by default) and room to spare. */
const BOUND_MS = 5_000;

const running = (marker: string) => processesWith(marker) > 0;
const statusOfExec = (server: TestServer, marker: string) =>
  server.app.db.prepare("SELECT status FROM actions WHERE operation = 'exec' AND arguments_json LIKE ?").pluck().get(`%${marker}%`) as string | undefined;
/** A command line no other test runs. */
const uniqueSleep = (seconds: number) => `sleep ${seconds}.${Math.floor(Math.random() * 1e6)}`;

/** The time `close()` takes, failing the test (instead of hanging it) past the bound. */
async function timeToClose(close: () => Promise<void>, bound = BOUND_MS): Promise<number> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const overran = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`shutdown still running after ${bound} ms`)), bound);
  });
  try {
    await Promise.race([close(), overran]);
  } finally {
    clearTimeout(timer);
  }
  return Date.now() - started;
}

/** A TCP socket to the server that the test controls byte by byte; `closed` resolves when the server ends it. */
async function rawSocket(url: URL): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect(Number(url.port), url.hostname);
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, received: () => text, closed };
}

/**
 * A WebSocket peer that completes the upgrade, then goes silent: it never answers a close
 * frame (a frozen browser tab, a laptop whose network went away).
 */
async function silentWebSocket(url: URL, path: string, token: string): Promise<{ closed: Promise<void> }> {
  const peer = await rawSocket(url);
  peer.socket.write(
    [
      `GET ${path} HTTP/1.1`,
      `Host: ${url.host}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      `Authorization: Bearer ${token}`,
      '',
      '',
    ].join('\r\n'),
  );
  await expect.poll(peer.received, { timeout: 10_000 }).toMatch(/^HTTP\/1\.1 101 /);
  return { closed: peer.closed };
}

/** `POST /api/ops/exec` in workspace `demo`, as an editor or script calls it. */
function restExec(url: URL, token: string, command: string, signal?: AbortSignal): Promise<Response> {
  return fetch(new URL('/api/ops/exec', url), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ workspace: 'demo', command }),
    ...(signal ? { signal } : {}),
  });
}

async function legacyClient(url: URL, token: string): Promise<LegacyClient> {
  const client = new LegacyClient({ name: 'shutdown-test', version: '1' });
  await client.connect(new LegacyHttpTransport(url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return client;
}

describe('shutdown of the HTTP server', () => {
  let server: TestServer | undefined;
  let closed = false;
  const start = async (grace?: number) => {
    server = await startTestServer({}, grace === undefined ? {} : { shutdownGraceMs: grace });
    closed = false;
    const token = server.token('acme', 'ada');
    const setup = await connectModernHttp(server.url, token);
    await setup.call('workspace_create', { name: 'demo' });
    await setup.close();
    return { server, token };
  };
  const close = async () => {
    closed = true;
    return timeToClose(() => server!.close());
  };
  afterEach(async () => {
    // A test that failed before closing still frees its server (a hung close is what the test found).
    if (server && !closed) await server.close();
    server = undefined;
  });

  it('2025-11-25: after the v1 client cancels a `sleep 3` and stays connected, the server closes within the bound', async () => {
    const { server, token } = await start();
    const client = await legacyClient(server.url, token);
    const marker = uniqueSleep(3);
    const controller = new AbortController();
    const began = Date.now();
    const call = client.callTool({ name: 'exec', arguments: { command: marker } }, undefined, { signal: controller.signal });
    await expect.poll(() => running(marker), { timeout: 10_000 }).toBe(true);
    controller.abort();
    await expect(call).rejects.toThrow(/abort/i);
    await expect.poll(() => statusOfExec(server, marker), { timeout: 10_000 }).toBe('cancelled');
    // The server keeps running past the time the command would have taken (the report's "a few seconds").
    await expect.poll(() => Date.now() - began, { timeout: 10_000, interval: 250 }).toBeGreaterThan(4_000);
    expect(server.http.mcp.legacySessions).toBe(1);
    await close();
    expect(running(marker)).toBe(false);
  });

  it('2026-07-28: after the v2 client cancels a `sleep 3`, the server closes within the bound', async () => {
    const { server, token } = await start();
    const client = new ModernClient({ name: 'shutdown-test', version: '2' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(new ModernHttpTransport(server.url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    const marker = uniqueSleep(3);
    const controller = new AbortController();
    const began = Date.now();
    const call = client.callTool({ name: 'exec', arguments: { command: marker } }, { signal: controller.signal });
    await expect.poll(() => running(marker), { timeout: 10_000 }).toBe(true);
    controller.abort();
    await expect(call).rejects.toThrow(/abort/i);
    await expect.poll(() => statusOfExec(server, marker), { timeout: 10_000 }).toBe('cancelled');
    await expect.poll(() => Date.now() - began, { timeout: 10_000, interval: 250 }).toBeGreaterThan(4_000);
    await close();
  });

  it('REST: after a client disconnects mid `POST /api/ops/exec`, the server closes within the bound', async () => {
    const { server, token } = await start();
    const marker = uniqueSleep(3);
    const controller = new AbortController();
    const call = restExec(server.url, token, marker, controller.signal);
    await expect.poll(() => running(marker), { timeout: 10_000 }).toBe(true);
    controller.abort();
    await expect(call).rejects.toThrow(/abort/i);
    await expect.poll(() => statusOfExec(server, marker), { timeout: 10_000 }).toBe('cancelled');
    await close();
  });

  it('a session whose client holds its GET stream open, and one whose client dropped it: closes within the bound', async () => {
    const { server, token } = await start();
    const headers = (sessionId: string) => ({ authorization: `Bearer ${token}`, accept: MCP_ACCEPT, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' });
    const held = await fetch(server.url, { headers: headers(await openSession(server.url, token)) });
    expect(held.headers.get('content-type')).toBe('text/event-stream');
    const dropper = new AbortController();
    const dropped = await fetch(server.url, { headers: headers(await openSession(server.url, token)), signal: dropper.signal });
    expect(dropped.status).toBe(200);
    dropper.abort();
    expect(server.http.mcp.legacySessions).toBe(2);
    await close();
    // The held stream was ended by the server, not left dangling.
    await expect(held.text()).resolves.toBeTypeOf('string');
  });

  it('sockets that sent nothing, or half their headers, are closed at once: they do not wait for the grace', async () => {
    const { server } = await start(60_000);
    const silent = await rawSocket(server.url);
    const partial = await rawSocket(server.url);
    partial.socket.write(`POST /api/ops/exec HTTP/1.1\r\nHost: ${server.url.host}\r\n`);
    // An idle keep-alive socket, after a finished request.
    const idle = await rawSocket(server.url);
    idle.socket.write(`GET /healthz HTTP/1.1\r\nHost: ${server.url.host}\r\n\r\n`);
    await expect.poll(idle.received, { timeout: 10_000 }).toMatch(/^HTTP\/1\.1 200 /);
    // Well under the 60 s grace: none of them counted as a call in flight.
    await close();
    await Promise.all([silent.closed, partial.closed, idle.closed]);
  });

  it('a call in flight gets the grace to finish and answer; one past the grace is cut off, its command stopped and recorded cancelled', async () => {
    const grace = 6_000;
    const { server, token } = await start(grace);
    const quick = `${uniqueSleep(1)}; echo finished-in-grace`;
    const slow = uniqueSleep(60);
    const finishing = restExec(server.url, token, quick);
    const overrunning = restExec(server.url, token, slow).then(
      (response) => `answered ${response.status}`,
      (error: Error) => `failed: ${(error.cause as Error | undefined)?.message ?? error.message}`,
    );
    await expect.poll(() => running(quick.split(';')[0]!) && running(slow), { timeout: 10_000 }).toBe(true);
    closed = true;
    const took = await timeToClose(() => server.http.close(), grace + BOUND_MS);
    expect(took).toBeGreaterThanOrEqual(grace - 100);
    const answer = await finishing;
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { stdout: string }).stdout).toBe('finished-in-grace\n');
    expect(await overrunning).toMatch(/^failed: (other side closed|socket hang up)/);
    expect(running(slow)).toBe(false);
    expect(statusOfExec(server, slow)).toBe('cancelled');
    expect(statusOfExec(server, quick)).toBe('succeeded');
    await close();
  });

  it.each([
    ['/sync', (workspace: string) => `/sync/${workspace}/file/notes.md`],
    ['/lsp', (workspace: string) => `/lsp/${workspace}`],
  ])('a %s WebSocket whose peer never answers the close frame does not hold shutdown (ws alone waits 30 s)', async (_face, path) => {
    const { server, token } = await start(1_000);
    const peer = await silentWebSocket(server.url, path('demo'), token);
    // Without the drain, ws waits 30 s for the peer's close frame, and shutdown with it.
    await close();
    await peer.closed;
  });

  it('a terminal viewer whose peer never answers the close frame does not hold shutdown', async () => {
    const { server, token } = await start(1_000);
    const agent = await connectModernHttp(server.url, token);
    const id = (await agent.call('terminal_open', { workspace: 'demo', shell: '/bin/bash' })).structured!.id as string;
    await agent.close();
    const peer = await silentWebSocket(server.url, `/ws/terminals/${id}`, token);
    await close();
    await peer.closed;
  });
});

describe('SIGTERM to `codebuddy serve`', () => {
  it('exits 0 within the bound with a session, its GET stream, a cancelled REST call and a silent socket open', async () => {
    const dataDir = tempDir();
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, '--data-dir', dataDir, 'token', 'create', '--tenant', 'acme', '--user', 'ada', '--role', 'agent'], {
      env: { ...process.env, CODEBUDDY_WORKSPACE_DISK_BYTES: '0' },
    });
    const token = stdout.trim();
    const { child, url } = await startServeProcess(dataDir);
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
    try {
      const client = await legacyClient(url, token);
      await client.callTool({ name: 'workspace_create', arguments: { name: 'demo' } });
      const marker = uniqueSleep(3);
      const controller = new AbortController();
      const call = restExec(url, token, marker, controller.signal);
      await expect.poll(() => running(marker), { timeout: 10_000 }).toBe(true);
      controller.abort();
      await expect(call).rejects.toThrow(/abort/i);
      await expect.poll(() => running(marker), { timeout: 10_000 }).toBe(false);
      const silent = await rawSocket(url);
      child.kill('SIGTERM');
      const outcome = await Promise.race([exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), BOUND_MS + 3_000))]);
      expect(outcome).toEqual([0, null]);
      await silent.closed;
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
