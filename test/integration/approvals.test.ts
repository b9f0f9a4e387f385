import { execFile } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';
import { startHttpServer } from '../../src/faces/http/http-server.js';
import { CLI, connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/test-server.js';

const run = promisify(execFile);

describe('approvals', () => {
  let server: TestServer;
  let agent: McpClient;
  let approver: McpClient;
  let approverToken: string;
  let agentToken: string;
  let root: string;

  beforeAll(async () => {
    server = await startTestServer();
    agentToken = server.token('acme', 'bot', 'agent');
    approverToken = server.token('acme', 'ana', 'approver');
    agent = await connectModernHttp(server.url, agentToken);
    approver = await connectModernHttp(server.url, approverToken);
    root = (await agent.call('workspace_create', { name: 'main' })).structured!.root as string;
    writeFileSync(join(root, 'app.ts'), 'export const mode = "dev";\n');
    const set = await approver.call('policy_set', { preset: 'review-writes', rules: [{ paths: ['.env', 'secrets/**'], decision: 'deny' }, { paths: ['docs/**'], decision: 'allow' }] });
    expect(set.isError).toBe(false);
  });

  afterAll(async () => {
    await Promise.all([agent?.close(), approver?.close()]);
    await server?.close();
  });

  it('holds a write for approval with a diff preview, and applies it once approved', async () => {
    const held = await agent.call('file_edit', { path: 'app.ts', edits: [{ old: '"dev"', new: '"prod"' }] });
    expect(held.isError).toBe(false);
    expect(held.structured).toMatchObject({ status: 'pending_approval', action_id: expect.stringMatching(/^act_/) });
    expect(held.structured!.preview).toContain('-export const mode = "dev";\n+export const mode = "prod";');
    expect(held.text).toMatch(/^held for approval as act_\S+ \(expires \S+\); action_wait/);
    expect(readFileSync(join(root, 'app.ts'), 'utf8')).toBe('export const mode = "dev";\n');

    const id = held.structured!.action_id as string;
    expect((await agent.call('action_get', { id })).structured).toMatchObject({ status: 'proposed', done: false });
    const waiting = agent.call('action_wait', { id, timeout_s: 10 });
    const approved = await approver.call('action_approve', { id, reason: 'release' });
    expect(approved.structured).toMatchObject({ status: 'applied', decided_by: 'acme/ana', reason: 'release', result: { replacements: 1 } });
    expect((await waiting).structured).toMatchObject({ status: 'applied', done: true });
    expect(readFileSync(join(root, 'app.ts'), 'utf8')).toBe('export const mode = "prod";\n');

    const events = (await approver.call('audit_query', { operation: 'file_edit' })).structured!.events as { type: string; action_id: string }[];
    expect(events.filter((e) => e.action_id === id).map((e) => e.type)).toEqual(['action.recorded', 'proposal.approved', 'proposal.applying', 'proposal.applied']);
  });

  it('keeps the file as it was when a proposal is rejected', async () => {
    const held = await agent.call('file_write', { path: 'app.ts', content: 'deleted everything\n' });
    const id = held.structured!.action_id as string;
    const rejected = await approver.call('action_reject', { id, reason: 'no' });
    expect(rejected.structured).toMatchObject({ status: 'rejected', done: true });
    expect((await agent.call('action_wait', { id, timeout_s: 1 })).structured).toMatchObject({ status: 'rejected' });
    expect(readFileSync(join(root, 'app.ts'), 'utf8')).toBe('export const mode = "prod";\n');
    expect(await approver.call('action_approve', { id })).toMatchObject({ isError: true, code: 'E_CONFLICT' });
  });

  it('refuses a stale proposal instead of applying it blindly', async () => {
    const held = await agent.call('file_edit', { path: 'app.ts', edits: [{ old: '"prod"', new: '"staging"' }] });
    writeFileSync(join(root, 'app.ts'), 'export const mode = "prod"; // hand-edited\n');
    const approved = await approver.call('action_approve', { id: held.structured!.action_id });
    expect(approved.structured).toMatchObject({ status: 'failed', error: { code: 'E_STALE_PROPOSAL' } });
    expect(readFileSync(join(root, 'app.ts'), 'utf8')).toBe('export const mode = "prod"; // hand-edited\n');
  });

  it('denies by rule, also through a symlink, and lets allowed paths through at once', async () => {
    expect(await agent.call('file_write', { path: '.env', content: 'KEY=1\n' })).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
    // The human's own .env, and a link to it: the rule sees where the link leads.
    writeFileSync(join(root, '.env'), 'KEY=human\n');
    symlinkSync('.env', join(root, 'env-link'));
    expect(await agent.call('file_write', { path: 'env-link', content: 'KEY=1\n' })).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
    expect(readFileSync(join(root, '.env'), 'utf8')).toBe('KEY=human\n');
    const docs = await agent.call('file_write', { path: 'docs/notes.md', content: '# notes\n' });
    expect(docs.structured).toMatchObject({ created: true });
    expect((await agent.call('file_read', { path: 'app.ts' })).isError).toBe(false);
  });

  it('never lets an agent token approve, reject or change policy, on any face', async () => {
    const held = await agent.call('file_delete', { path: 'app.ts' });
    const id = held.structured!.action_id as string;
    for (const [tool, args] of [
      ['action_approve', { id }],
      ['action_reject', { id }],
      ['policy_set', { preset: 'trusted' }],
    ] as const) {
      expect(await agent.call(tool, args)).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
    }
    const rest = await fetch(new URL(`/api/actions/${id}/approve`, server.url), { method: 'POST', headers: { authorization: `Bearer ${agentToken}` } });
    expect(rest.status).toBe(403);
    expect((await agent.call('action_get', { id })).structured).toMatchObject({ status: 'proposed' });

    const list = await fetch(new URL('/api/actions?status=proposed', server.url), { headers: { authorization: `Bearer ${approverToken}` } });
    expect(((await list.json()) as { actions: { id: string }[] }).actions.map((a) => a.id)).toContain(id);
    const shown = await fetch(new URL(`/api/actions/${id}`, server.url), { headers: { authorization: `Bearer ${approverToken}` } });
    expect(await shown.json()).toMatchObject({ id, status: 'proposed', preview: expect.stringContaining('/dev/null') });
    const rejected = await fetch(new URL(`/api/actions/${id}/reject`, server.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${approverToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'keep it' }),
    });
    expect(await rejected.json()).toMatchObject({ status: 'rejected', reason: 'keep it' });
  });

  it("never shows or decides another tenant's actions", async () => {
    const held = await agent.call('file_write', { path: 'x.txt', content: 'x' });
    const id = held.structured!.action_id as string;
    const outsider = await connectModernHttp(server.url, server.token('globex', 'eve', 'approver'));
    expect(await outsider.call('action_get', { id })).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
    expect(await outsider.call('action_approve', { id })).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
    expect((await outsider.call('action_list', {})).text).toBe('no held actions');
    await outsider.close();
    expect((await agent.call('action_get', { id })).structured).toMatchObject({ status: 'proposed' });
  });

  it('replays the pending answer to an idempotent retry of a held call', async () => {
    const args = { path: 'retry.txt', content: 'once\n', idempotency_key: 'held-retry' };
    const first = await agent.call('file_write', args);
    const retry = await agent.call('file_write', args);
    expect(retry.structured).toEqual(first.structured);
    expect(retry.meta?.['codebuddy/replay_of']).toBe(first.meta?.['codebuddy/action_id']);
  });

  it('is decided from the CLI too, and the waiting agent sees it', async () => {
    const held = await agent.call('file_write', { path: 'cli.txt', content: 'from cli\n' });
    const id = held.structured!.action_id as string;
    const waiting = agent.call('action_wait', { id, timeout_s: 20 });
    const shown = await run(process.execPath, [CLI, '--data-dir', server.dataDir, 'actions', 'show', id, '--tenant', 'acme']);
    expect(shown.stdout).toContain(`${id} file_write proposed`);
    const approved = await run(process.execPath, [CLI, '--data-dir', server.dataDir, 'actions', 'approve', id, '--tenant', 'acme', '--reason', 'ok']);
    expect(approved.stdout).toContain(`${id} file_write applied`);
    expect((await waiting).structured).toMatchObject({ status: 'applied', decided_by: expect.stringMatching(/^acme\//) });
    expect(readFileSync(join(root, 'cli.txt'), 'utf8')).toBe('from cli\n');
    const policy = await run(process.execPath, [CLI, '--data-dir', server.dataDir, 'policy', 'show', 'main', '--tenant', 'acme']);
    expect(policy.stdout.split('\n')[0]).toBe('review-writes');
  });
});

describe('proposals over time', () => {
  it('expire when nobody decides in time', async () => {
    const server = await startTestServer({ defaultPolicy: 'review-all', proposalTtlMinutes: 1 / 60 });
    const agent = await connectModernHttp(server.url, server.token('acme', 'bot'));
    const approver = await connectModernHttp(server.url, server.token('acme', 'ana', 'approver'));
    await agent.call('workspace_create', { name: 'w' });
    const held = await agent.call('file_write', { path: 'late.txt', content: 'late' });
    const id = held.structured!.action_id as string;
    const waited = await agent.call('action_wait', { id, timeout_s: 3 });
    expect(waited.structured).toMatchObject({ status: 'expired', done: true });
    expect(await approver.call('action_approve', { id })).toMatchObject({ isError: true, code: 'E_CONFLICT' });
    await Promise.all([agent.close(), approver.close()]);
    await server.close();
  });

  it('survive a restart, and an approval after it still applies', async () => {
    const dataDir = tempDir();
    const config = loadConfig({ env: {}, overrides: { dataDir, logLevel: 'silent', defaultPolicy: 'review-writes', port: 0, workspaceDiskBytes: 0 } });
    const first = createApp(config);
    const firstHttp = await startHttpServer(first, { host: '127.0.0.1', port: 0 });
    const token = first.tokens.create({ tenantId: 'acme', userId: 'bot', role: 'agent' }).token;
    const agent = await connectModernHttp(new URL(firstHttp.url), token);
    const root = (await agent.call('workspace_create', { name: 'w' })).structured!.root as string;
    const id = (await agent.call('file_write', { path: 'kept.txt', content: 'survived\n' })).structured!.action_id as string;
    await agent.close();
    await firstHttp.close();
    first.close();

    const second = createApp(config);
    await second.proposals.recoverAfterRestart();
    const approverToken = second.tokens.create({ tenantId: 'acme', userId: 'ana', role: 'approver' }).token;
    const secondHttp = await startHttpServer(second, { host: '127.0.0.1', port: 0 });
    const approver = await connectModernHttp(new URL(secondHttp.url), approverToken);
    expect((await approver.call('action_approve', { id })).structured).toMatchObject({ status: 'applied' });
    expect(readFileSync(join(root, 'kept.txt'), 'utf8')).toBe('survived\n');
    await approver.close();
    await secondHttp.close();
    second.close();
  });
});
