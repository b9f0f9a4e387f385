import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/test-server.js';

const run = promisify(execFile);
const cli = (dataDir: string, ...args: string[]) => run(process.execPath, [CLI, '--data-dir', dataDir, ...args]);

describe('audit trail', () => {
  let server: TestServer;
  let acme: McpClient;
  let globex: McpClient;
  let acmeToken: string;
  let workspaceId: string;

  beforeAll(async () => {
    server = await startTestServer({ listPageSize: 4 });
    acmeToken = server.token('acme', 'ada');
    acme = await connectModernHttp(server.url, acmeToken);
    globex = await connectModernHttp(server.url, server.token('globex', 'gus'));
    workspaceId = (await acme.call('workspace_create', { name: 'main' })).structured!.id as string;
    await acme.call('file_write', { path: 'a.txt', content: 'a' });
    await acme.call('file_read', { path: 'missing.txt' });
    await acme.call('file_edit', { path: 'a.txt', edits: [{ old: 'a', new: 'b' }] });
    await globex.call('workspace_create', { name: 'theirs' });
  });

  afterAll(async () => {
    await Promise.all([acme?.close(), globex?.close()]);
    await server?.close();
  });

  it('answers audit_query with filters, in sequence order, paged', async () => {
    const failed = await acme.call('audit_query', { status: 'failed' });
    expect((failed.structured!.events as { details: { operation: string } }[]).map((e) => e.details.operation)).toEqual(['file_read']);
    expect(failed.text).toMatch(/^#\d+ \S+ acme\/ada action\.recorded file_read failed E_NOT_FOUND ws_/);

    const writes = await acme.call('audit_query', { operation: 'file_write', workspace_id: workspaceId });
    expect(writes.structured!.events).toHaveLength(1);

    const seqs: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await acme.call('audit_query', { actor: 'acme/ada', ...(cursor ? { cursor } : {}) });
      seqs.push(...(page.structured!.events as { seq: number }[]).map((e) => e.seq));
      cursor = page.structured!.next_cursor as string | undefined;
    } while (cursor);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs.length).toBeGreaterThanOrEqual(5);

    const future = await acme.call('audit_query', { since: '2999-01-01T00:00:00Z' });
    expect(future.text).toBe('no audit events match');
    expect(await acme.call('audit_query', { since: 'yesterday' })).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
  });

  it("never shows another tenant's events", async () => {
    const theirs = await globex.call('audit_query', {});
    const actors = new Set((theirs.structured!.events as { actor: string }[]).map((e) => e.actor));
    expect(actors).toEqual(new Set(['globex/gus']));
    expect(await globex.call('audit_query', { workspace_id: workspaceId })).toMatchObject({ text: 'no audit events match' });
  });

  it('serves GET /api/audit with the same filters, and joins a correlation id to its events', async () => {
    const url = new URL('/api/audit?operation=file_edit', server.url);
    const response = await fetch(url, { headers: { authorization: `Bearer ${acmeToken}`, 'x-correlation-id': 'rest-call-42' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-correlation-id')).toBe('rest-call-42');
    const body = (await response.json()) as { events: { details: { operation: string } }[] };
    expect(body.events.map((e) => e.details.operation)).toEqual(['file_edit']);

    const recorded = (await (await fetch(new URL('/api/audit?correlation_id=rest-call-42', server.url), { headers: { authorization: `Bearer ${acmeToken}` } })).json()) as {
      events: { correlation_id: string; details: { operation: string } }[];
    };
    expect(recorded.events.map((e) => [e.correlation_id, e.details.operation])).toEqual([['rest-call-42', 'audit_query']]);

    expect((await fetch(url)).status).toBe(401);
    const bad = await fetch(new URL('/api/audit?status=weird', server.url), { headers: { authorization: `Bearer ${acmeToken}` } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'E_INVALID_ARGUMENT', field: 'status' } });
  });

  it('takes the trace id of a W3C traceparent as the correlation id', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await fetch(new URL('/api/audit', server.url), { headers: { authorization: `Bearer ${acmeToken}`, traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    const events = (await acme.call('audit_query', { correlation_id: traceId })).structured!.events as { correlation_id: string }[];
    expect(events).toHaveLength(1);
  });
});

describe('codebuddy audit verify / export', () => {
  it('verifies a chain, finds the row edited in the database file, and exports JSON lines', async () => {
    const server = await startTestServer();
    const client = await connectModernHttp(server.url, server.token('acme', 'ada'));
    await client.call('workspace_create', { name: 'w' });
    for (let i = 0; i < 5; i++) await client.call('file_write', { path: `f${i}.txt`, content: String(i) });
    await client.close();
    const dataDir = server.dataDir;
    await server.http.close();
    server.app.close();

    expect((await cli(dataDir, 'audit', 'verify')).stdout).toMatch(/^acme: ok, \d+ events$/m);

    const out = join(tempDir(), 'audit.jsonl');
    await cli(dataDir, 'audit', 'export', '--out', out);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { seq: number; hash: string; prev_hash: string });
    expect(lines.map((line) => line.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    lines.slice(1).forEach((line, index) => expect(line.prev_hash).toBe(lines[index]!.hash));
    const recent = (await cli(dataDir, 'audit', 'export', '--since', '2999-01-01T00:00:00Z')).stdout;
    expect(recent).toBe('');

    const db = new Database(join(dataDir, 'codebuddy.db'));
    db.prepare("UPDATE audit_events SET payload_json = replace(payload_json, 'succeeded', 'failed') WHERE tenant_id = 'acme' AND seq = 4").run();
    db.close();
    await expect(cli(dataDir, 'audit', 'verify')).rejects.toMatchObject({ code: 1, stdout: expect.stringContaining('acme: BROKEN at seq 4') });
  });
});
