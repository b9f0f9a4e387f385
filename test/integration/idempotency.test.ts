import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';
import { connectLegacyHttp, connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/test-server.js';

describe('idempotency keys', () => {
  let server: TestServer;
  let acme: McpClient;
  let globex: McpClient;
  let root: string;

  beforeAll(async () => {
    server = await startTestServer();
    acme = await connectModernHttp(server.url, server.token('acme', 'ada'));
    globex = await connectModernHttp(server.url, server.token('globex', 'gus'));
    root = (await acme.call('workspace_create', { name: 'main' })).structured!.root as string;
    await globex.call('workspace_create', { name: 'main' });
  });

  afterAll(async () => {
    await Promise.all([acme?.close(), globex?.close()]);
    await server?.close();
  });

  const countActions = (operation: string) =>
    server.app.db.prepare("SELECT count(*) FROM actions WHERE tenant_id = 'acme' AND operation = ?").pluck().get(operation) as number;

  it('replays the first result to a retry with no second effect, and records the retry', async () => {
    await acme.call('file_write', { path: 'counter.txt', content: 'n = 1\n' });
    const before = countActions('file_edit');
    const edit = { path: 'counter.txt', edits: [{ old: 'n = 1', new: 'n = 2' }], idempotency_key: 'edit-1' };
    const first = await acme.call('file_edit', edit);
    const retry = await acme.call('file_edit', edit);
    expect(first.isError).toBe(false);
    expect(retry.isError).toBe(false);
    expect(retry.text).toBe(first.text);
    expect(retry.structured).toEqual(first.structured);
    expect(retry.meta?.['codebuddy/replay_of']).toBe(first.meta?.['codebuddy/action_id']);
    expect(readFileSync(join(root, 'counter.txt'), 'utf8')).toBe('n = 2\n');
    expect(countActions('file_edit')).toBe(before + 2);
  });

  it('refuses the same key with other arguments', async () => {
    await acme.call('file_write', { path: 'a.txt', content: 'a', idempotency_key: 'write-a' });
    const other = await acme.call('file_write', { path: 'a.txt', content: 'b', idempotency_key: 'write-a' });
    expect(other).toMatchObject({ isError: true, code: 'E_IDEMPOTENCY_MISMATCH' });
    expect(readFileSync(join(root, 'a.txt'), 'utf8')).toBe('a');
    const otherOperation = await acme.call('file_delete', { path: 'a.txt', idempotency_key: 'write-a' });
    expect(otherOperation).toMatchObject({ isError: true, code: 'E_IDEMPOTENCY_MISMATCH' });
  });

  it('keeps keys per tenant', async () => {
    const mine = await acme.call('workspace_create', { name: 'keyed', idempotency_key: 'shared-key' });
    const theirs = await globex.call('workspace_create', { name: 'keyed', idempotency_key: 'shared-key' });
    expect(theirs.isError).toBe(false);
    expect(theirs.structured!.id).not.toBe(mine.structured!.id);
    expect(theirs.meta?.['codebuddy/replay_of']).toBeUndefined();
  });

  it('gives ten concurrent calls with one key one effect', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, () => acme.call('workspace_create', { name: 'once', idempotency_key: 'create-once' })));
    expect(answers.filter((answer) => answer.isError)).toEqual([]);
    expect(new Set(answers.map((answer) => answer.structured!.id)).size).toBe(1);
    expect(answers.filter((answer) => answer.meta?.['codebuddy/replay_of'] === undefined)).toHaveLength(1);
    const listed = (await acme.call('workspace_list')).structured!.workspaces as { name: string }[];
    expect(listed.filter((workspace) => workspace.name === 'once')).toHaveLength(1);
  });

  it('replays a first failure too, so a retry cannot act on a changed world', async () => {
    await acme.call('file_write', { path: 'f.txt', content: 'old\n', workspace: 'main' });
    const args = { path: 'f.txt', workspace: 'main', edits: [{ old: 'missing', new: 'x' }], idempotency_key: 'edit-fail' };
    const first = await acme.call('file_edit', args);
    await acme.call('file_write', { path: 'f.txt', content: 'missing\n', workspace: 'main' });
    const retry = await acme.call('file_edit', args);
    expect(first).toMatchObject({ isError: true, code: 'E_EDIT_NO_MATCH' });
    expect(retry).toMatchObject({ isError: true, code: 'E_EDIT_NO_MATCH' });
    expect(retry.meta?.['codebuddy/error']).toMatchObject({ replay_of: expect.stringMatching(/^act_/) });
    expect(readFileSync(join(root, 'f.txt'), 'utf8')).toBe('missing\n');
  });

  it('takes the key from the Idempotency-Key header over HTTP', async () => {
    const keyed = await connectLegacyHttp(server.url, server.token('acme', 'ada'));
    const headerClient = await (async () => {
      const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
      const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
      const client = new Client({ name: 'header-client', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(server.url, { requestInit: { headers: { Authorization: `Bearer ${server.token('acme', 'ada')}`, 'Idempotency-Key': 'header-key-1' } } }));
      return client;
    })();
    await keyed.call('file_write', { path: 'h.txt', content: 'v1\n', workspace: 'main' });
    const edit = { name: 'file_edit', arguments: { path: 'h.txt', workspace: 'main', edits: [{ old: 'v1', new: 'v2' }] } };
    const first = (await headerClient.callTool(edit)) as { isError?: boolean; _meta?: Record<string, unknown> };
    const retry = (await headerClient.callTool(edit)) as { isError?: boolean; _meta?: Record<string, unknown> };
    expect(first.isError).toBeFalsy();
    expect(retry.isError).toBeFalsy();
    expect(retry._meta?.['codebuddy/replay_of']).toBe(first._meta?.['codebuddy/action_id']);
    expect(readFileSync(join(root, 'h.txt'), 'utf8')).toBe('v2\n');
    await Promise.all([keyed.close(), headerClient.close()]);
  });

  it('refuses a key on reads, and a malformed key', async () => {
    expect(await acme.call('file_read', { path: 'f.txt', workspace: 'main', idempotency_key: 'k' })).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    const bad = await acme.call('file_write', { path: 'z.txt', content: 'z', workspace: 'main', idempotency_key: 'has spaces' });
    expect(bad).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect(bad.meta?.['codebuddy/error']).toMatchObject({ field: 'idempotency_key' });
  });
});

describe('idempotency keys across a restart', () => {
  it('marks keys of calls a dead process left running as interrupted, and expires old keys', () => {
    const dataDir = tempDir();
    const config = loadConfig({ env: {}, overrides: { dataDir, logLevel: 'silent' } });
    const first = createApp(config);
    first.db.prepare("INSERT INTO idempotency_keys (tenant_id, key, operation, request_hash, state, created_at) VALUES ('acme', 'k', 'file_write', 'h', 'pending', ?)").run(Date.now());
    first.db.prepare("INSERT INTO idempotency_keys (tenant_id, key, operation, request_hash, state, action_id, outcome_json, created_at) VALUES ('acme', 'done-key', 'file_write', 'h', 'done', 'act_x', '{}', ?)").run(Date.now());
    first.db.prepare("INSERT INTO idempotency_keys (tenant_id, key, operation, request_hash, state, action_id, outcome_json, created_at) VALUES ('acme', 'old-key', 'file_write', 'h', 'done', 'act_y', '{}', ?)").run(Date.now() - 25 * 3_600_000);
    first.close();

    const second = createApp(config);
    const keys = second.db.prepare("SELECT key, state FROM idempotency_keys WHERE tenant_id = 'acme' ORDER BY key").all();
    second.close();
    expect(keys).toEqual([
      { key: 'done-key', state: 'done' },
      { key: 'k', state: 'interrupted' },
    ]);
  });
});
