import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpClient } from '../helpers/mcp-clients.js';
import { closeAgentAndApprover, startWithAgentAndApprover } from '../helpers/agent-and-approver.js';
import type { TestServer } from '../helpers/test-server.js';

// Rows 8 and 9 of the hostile review: an idempotency replay was answered before the role
// check (an agent replaying an approver's action_approve key got "succeeded", recorded as
// its own approval), refusals were stored so an agent could poison a key an approver would
// use, and exec's stored outcome kept stdout holding an `env` value.

describe('idempotency keys after authorization', () => {
  let server: TestServer;
  let agent: McpClient;
  let approver: McpClient;
  let root: string;

  beforeAll(async () => {
    ({ server, agent, approver } = await startWithAgentAndApprover());
    root = (await agent.call('workspace_create', { name: 'main' })).structured!.root as string;
    expect((await approver.call('policy_set', { preset: 'review-writes', rules: [{ paths: ['locked/**'], decision: 'deny' }] })).isError).toBe(false);
  });

  afterAll(async () => {
    await closeAgentAndApprover({ server, agent, approver });
  });

  const held = async (path: string) => (await agent.call('file_write', { path, content: 'x\n' })).structured!.action_id as string;
  const rows = (sql: string, ...params: unknown[]) => server.app.db.prepare(sql).all(...params) as Record<string, unknown>[];

  it("refuses an agent replaying an approver's action_approve key, and records no approval as the agent", async () => {
    const id = await held('a.txt');
    const approve = { id, idempotency_key: 'approve-a' };
    expect((await approver.call('action_approve', approve)).structured).toMatchObject({ status: 'applied', decided_by: 'acme/ana' });

    const replay = await agent.call('action_approve', approve);
    expect(replay).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
    expect(replay.meta?.['codebuddy/replay_of']).toBeUndefined();

    const byAgent = rows("SELECT status, error_code FROM actions WHERE tenant_id = 'acme' AND operation = 'action_approve' AND user_id = 'bot'");
    expect(byAgent).toEqual([{ status: 'failed', error_code: 'E_FORBIDDEN' }]);
    expect(rows("SELECT type FROM audit_events WHERE tenant_id = 'acme' AND action_id = ? AND type = 'proposal.approved'", id)).toHaveLength(1);
    // The approver's own retry still replays.
    expect((await approver.call('action_approve', approve)).meta?.['codebuddy/replay_of']).toEqual(expect.stringMatching(/^act_/));
  });

  it('does not let a refused call poison a key: the approver using it afterwards runs', async () => {
    const id = await held('b.txt');
    const args = { id, idempotency_key: 'approve-b' };
    expect(await agent.call('action_approve', args)).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
    expect(await agent.call('action_approve', args)).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
    expect(rows("SELECT key FROM idempotency_keys WHERE key = 'approve-b'")).toEqual([]);

    const approved = await approver.call('action_approve', args);
    expect(approved.structured).toMatchObject({ status: 'applied', decided_by: 'acme/ana' });
    expect(approved.meta?.['codebuddy/replay_of']).toBeUndefined();
    expect(readFileSync(join(root, 'b.txt'), 'utf8')).toBe('x\n');
  });

  it("keeps keys per user: another user's key is neither replayed nor blocking", async () => {
    // The agent takes a key first with a call of its own...
    const mine = await agent.call('file_write', { path: 'c.txt', content: 'c\n', idempotency_key: 'shared' });
    expect(mine.structured).toMatchObject({ status: 'pending_approval' });
    // ...and the approver's call with the same key is the approver's own first call.
    const id = mine.structured!.action_id as string;
    const approved = await approver.call('action_approve', { id, idempotency_key: 'shared' });
    expect(approved.structured).toMatchObject({ status: 'applied' });
    expect(approved.meta?.['codebuddy/replay_of']).toBeUndefined();
  });

  it('stores no policy refusal under a key: the same key runs once the policy allows the call', async () => {
    const denied = await agent.call('file_write', { path: 'locked/f.txt', content: 'f\n', idempotency_key: 'locked-write' });
    expect(denied).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
    expect(await agent.call('file_write', { path: 'locked/f.txt', content: 'f\n', idempotency_key: 'locked-write' })).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
    expect((await approver.call('policy_set', { preset: 'trusted' })).isError).toBe(false);
    const allowed = await agent.call('file_write', { path: 'locked/f.txt', content: 'f\n', idempotency_key: 'locked-write' });
    expect(allowed.structured).toMatchObject({ created: true });
    expect(allowed.meta?.['codebuddy/replay_of']).toBeUndefined();
    // An invalid call does not take its key either.
    expect(await agent.call('file_write', { path: 'g.txt', idempotency_key: 'needs-content' })).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect((await agent.call('file_write', { path: 'g.txt', content: 'g\n', idempotency_key: 'needs-content' })).isError).toBe(false);
    expect(existsSync(join(root, 'g.txt'))).toBe(true);
  });

  it("keeps exec's env values out of the database, in the stored outcome too", async () => {
    const secret = 'hunter2-correct-horse-battery';
    const args = { command: 'echo "value=$DEPLOY_KEY"; echo "$DEPLOY_KEY" >&2', env: { DEPLOY_KEY: secret }, idempotency_key: 'exec-env' };
    const first = await agent.call('exec', args);
    expect(first.structured).toMatchObject({ exit_code: 0, stdout: `value=${secret}\n` });
    const replay = await agent.call('exec', args);
    expect(replay.meta?.['codebuddy/replay_of']).toBe(first.meta?.['codebuddy/action_id']);
    expect(replay.structured).toMatchObject({ stdout: 'value=[redacted]\n', stderr: '[redacted]\n' });

    // The database as anyone who can read the file sees it: every table, and the raw bytes.
    const file = join(server.dataDir, 'codebuddy.db');
    const reader = new Database(file, { readonly: true, fileMustExist: true });
    const tables = reader.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
    for (const table of tables) expect(JSON.stringify(reader.prepare(`SELECT * FROM "${table}"`).all()), table).not.toContain(secret);
    const outcome = reader.prepare("SELECT outcome_json FROM idempotency_keys WHERE key = 'exec-env'").pluck().get() as string;
    expect(outcome).toContain('value=[redacted]');
    reader.close();
    for (const path of [file, `${file}-wal`]) if (existsSync(path)) expect(readFileSync(path).includes(Buffer.from(secret)), path).toBe(false);
  });

  it('keeps the usual replay: same user, same arguments, one effect', async () => {
    writeFileSync(join(root, 'n.txt'), 'n = 1\n');
    const edit = { path: 'n.txt', edits: [{ old: 'n = 1', new: 'n = 2' }], idempotency_key: 'edit-n' };
    const first = await agent.call('file_edit', edit);
    const retry = await agent.call('file_edit', edit);
    expect(retry.meta?.['codebuddy/replay_of']).toBe(first.meta?.['codebuddy/action_id']);
    expect(readFileSync(join(root, 'n.txt'), 'utf8')).toBe('n = 2\n');
  });

  it('replays a retried workspace_delete, whose first call removed the workspace, instead of answering not found', async () => {
    await agent.call('workspace_create', { name: 'gone-soon' });
    const del = { workspace: 'gone-soon', idempotency_key: 'delete-gone-soon' };
    const first = await agent.call('workspace_delete', del);
    expect(first.isError, first.text).toBe(false);
    const retry = await agent.call('workspace_delete', del);
    expect(retry.isError, retry.text).toBe(false);
    expect(retry.meta?.['codebuddy/replay_of']).toBe(first.meta?.['codebuddy/action_id']);
    // Without the key, a second delete is what it is: not found.
    expect(await agent.call('workspace_delete', { workspace: 'gone-soon' })).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
  });
});
