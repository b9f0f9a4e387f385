/**
 * Note writes go through the same policies, proposals, idempotency keys and audit as file
 * writes: `review-writes` holds them with a diff of the body, approval applies them, a note
 * changed meanwhile makes the proposal stale, and path and operation rules bind them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpClient } from '../helpers/mcp-clients.js';
import { closeAgentAndApprover, startWithAgentAndApprover } from '../helpers/agent-and-approver.js';
import { succeed as ok } from '../helpers/tool-calls.js';
import type { TestServer } from '../helpers/test-server.js';

describe('note writes under policies and approvals', () => {
  let server: TestServer;
  let agent: McpClient;
  let approver: McpClient;

  beforeAll(async () => {
    ({ server, agent, approver } = await startWithAgentAndApprover());
    await ok(agent, 'workspace_create', { name: 'reviewed' });
    await ok(agent, 'workspace_create', { name: 'ruled' });
  });

  afterAll(async () => {
    await closeAgentAndApprover({ server, agent, approver });
  });

  describe('review-writes', () => {
    let noteId: string;

    beforeAll(async () => {
      // Made before the policy, so there is something to update.
      noteId = (await ok(agent, 'note_create', { title: 'Plan', body: 'line one\n- [ ] task one\n', workspace: 'reviewed' })).id as string;
      await ok(approver, 'policy_set', { preset: 'review-writes', workspace: 'reviewed' });
    });

    it('holds an update with a diff of the body; approval applies it and the waiting agent sees it', async () => {
      const held = await agent.call('note_update', { id: noteId, version: 1, body: 'line one\nline two\n- [ ] task one\n', workspace: 'reviewed' });
      expect(held.structured).toMatchObject({ status: 'pending_approval', action_id: expect.stringMatching(/^act_/) });
      const preview = held.structured!.preview as string;
      expect(preview).toContain(`update note ${noteId} (version 1)`);
      expect(preview).toContain(`--- a/notes/${noteId}`);
      expect(preview).toContain(' line one\n+line two\n - [ ] task one');
      expect((await ok(agent, 'note_get', { id: noteId, workspace: 'reviewed' })).version).toBe(1);

      const id = held.structured!.action_id as string;
      const shown = await approver.call('action_get', { id });
      expect(shown.text).toContain('+line two');
      const waiting = agent.call('action_wait', { id, timeout_s: 20 });
      const approved = await approver.call('action_approve', { id, reason: 'fine' });
      expect(approved.structured).toMatchObject({ status: 'applied', result: { id: noteId, version: 2 } });
      expect((await waiting).structured).toMatchObject({ status: 'applied', done: true });
      const note = await ok(agent, 'note_get', { id: noteId, workspace: 'reviewed' });
      expect(note).toMatchObject({ version: 2, body: 'line one\nline two\n- [ ] task one\n' });
      // Tasks moved with the approved body (line 2 → 3), same id.
      expect(note.tasks).toMatchObject([{ line: 3, text: 'task one' }]);

      const events = (await approver.call('audit_query', { operation: 'note_update' })).structured!.events as { type: string; action_id: string }[];
      expect(events.filter((event) => event.action_id === id).map((event) => event.type)).toEqual(['action.recorded', 'proposal.approved', 'proposal.applying', 'proposal.applied']);
    });

    it('refuses a proposal whose note changed meanwhile as E_STALE_PROPOSAL', async () => {
      const first = await agent.call('note_update', { id: noteId, version: 2, title: 'Plan A', workspace: 'reviewed' });
      const second = await agent.call('note_update', { id: noteId, version: 2, body: 'rewritten\n', workspace: 'reviewed' });
      expect(first.structured!.preview).toContain('title: "Plan" -> "Plan A"');
      expect(second.structured!.preview).toContain('-line two');
      await ok(approver, 'action_approve', { id: first.structured!.action_id });
      const stale = await approver.call('action_approve', { id: second.structured!.action_id });
      expect(stale.structured).toMatchObject({ status: 'failed', error: { code: 'E_STALE_PROPOSAL', message: expect.stringContaining(`note ${noteId} is at version 3, not 2`) } });
      expect(await ok(agent, 'note_get', { id: noteId, workspace: 'reviewed' })).toMatchObject({ version: 3, title: 'Plan A', body: 'line one\nline two\n- [ ] task one\n' });

      // A task update names no version: the note's version at the time it was held is its base.
      const taskId = ((await ok(agent, 'note_get', { id: noteId, workspace: 'reviewed' })).tasks as { id: string }[])[0]!.id;
      const tick = await agent.call('task_update', { id: taskId, status: 'done', workspace: 'reviewed' });
      const retitle = await agent.call('note_update', { id: noteId, version: 3, title: 'Plan B', workspace: 'reviewed' });
      await ok(approver, 'action_approve', { id: retitle.structured!.action_id });
      const staleTick = await approver.call('action_approve', { id: tick.structured!.action_id });
      expect(staleTick.structured).toMatchObject({ status: 'failed', error: { code: 'E_STALE_PROPOSAL', message: `notes/${noteId} changed after the proposal was made; it was not applied` } });
      expect(await ok(agent, 'note_get', { id: noteId, workspace: 'reviewed' })).toMatchObject({ version: 4, body: 'line one\nline two\n- [ ] task one\n' });
    });

    it('refuses at once what could never apply: an update from a version already gone', async () => {
      expect(await agent.call('note_update', { id: noteId, version: 1, body: 'x', workspace: 'reviewed' })).toMatchObject({ isError: true, code: 'E_CONFLICT' });
      expect(await agent.call('note_update', { id: 'note_nope', version: 1, body: 'x', workspace: 'reviewed' })).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
    });

    it('holds creates, task updates, links, artifacts and deletes the same way', async () => {
      const current = (await ok(agent, 'note_get', { id: noteId, workspace: 'reviewed' })).version;
      expect(current).toBe(4);
      const created = await agent.call('note_create', { title: 'Held', body: '- [ ] new task\n', workspace: 'reviewed' });
      expect(created.structured!.preview).toContain('new note "Held"');
      expect(created.structured!.preview).toContain('+- [ ] new task');
      const applied = await ok(approver, 'action_approve', { id: created.structured!.action_id });
      const heldId = (applied.result as { id: string }).id;
      expect(await ok(agent, 'note_get', { id: heldId, workspace: 'reviewed' })).toMatchObject({ title: 'Held', author: 'bot' });

      const taskId = ((await ok(agent, 'task_list', { workspace: 'reviewed' })).tasks as { id: string; note: string }[]).find((task) => task.note === heldId)!.id;
      const tick = await agent.call('task_update', { id: taskId, status: 'done', workspace: 'reviewed' });
      expect(tick.structured!.preview).toContain('-- [ ] new task\n+- [x] new task');
      await ok(approver, 'action_approve', { id: tick.structured!.action_id });
      expect(((await ok(agent, 'note_get', { id: heldId, workspace: 'reviewed' })).tasks as { status: string }[])[0]!.status).toBe('done');

      const link = await agent.call('note_link', { from: heldId, type: 'supersedes', note: noteId, workspace: 'reviewed' });
      expect(link.structured!.preview).toBe(`link note ${heldId} -supersedes-> note ${noteId}`);
      const artifact = await agent.call('artifact_add', { note: heldId, name: 'a.txt', content: 'attached text\n', workspace: 'reviewed' });
      expect(artifact.structured!.preview).toContain('+attached text');
      // The link's target goes before approval: the proposal no longer applies.
      const removal = await agent.call('note_delete', { id: noteId, workspace: 'reviewed' });
      expect(removal.structured!.preview).toContain(`-line two`);
      await ok(approver, 'action_approve', { id: removal.structured!.action_id });
      expect(await approver.call('action_approve', { id: link.structured!.action_id })).toMatchObject({ structured: { status: 'failed', error: { code: 'E_STALE_PROPOSAL' } } });
      expect(await ok(approver, 'action_approve', { id: artifact.structured!.action_id })).toMatchObject({ status: 'applied', result: { name: 'a.txt', size: 14 } });
    });

    it('replays the pending answer to an idempotent retry of a held note write', async () => {
      const args = { title: 'Once', idempotency_key: 'held-note-1', workspace: 'reviewed' };
      const first = await agent.call('note_create', args);
      const retry = await agent.call('note_create', args);
      expect(retry.structured).toEqual(first.structured);
      expect(retry.meta?.['codebuddy/replay_of']).toBe(first.meta?.['codebuddy/action_id']);
      expect(server.app.db.prepare("SELECT count(*) FROM proposals WHERE operation = 'note_create' AND arguments_json LIKE '%\"Once\"%'").pluck().get()).toBe(1);
    });
  });

  describe('rules and idempotency where writes run at once', () => {
    it('gives a retried note_create with the same key the first answer and one note', async () => {
      const args = { title: 'Keyed', body: 'once', idempotency_key: 'note-key-1', workspace: 'ruled' };
      const first = await agent.call('note_create', args);
      const retry = await agent.call('note_create', args);
      expect(first.isError).toBe(false);
      expect(retry.structured).toEqual(first.structured);
      expect(retry.meta?.['codebuddy/replay_of']).toBe(first.meta?.['codebuddy/action_id']);
      expect(((await ok(agent, 'note_list', { workspace: 'ruled' })).notes as { title: string }[]).filter((note) => note.title === 'Keyed')).toHaveLength(1);
      expect(await agent.call('note_create', { ...args, title: 'Other' })).toMatchObject({ isError: true, code: 'E_IDEMPOTENCY_MISMATCH' });
    });

    it('binds path rules on notes/** and operation rules on note_*', async () => {
      const note = await ok(agent, 'note_create', { title: 'Guarded', body: 'v1', workspace: 'ruled' });
      await ok(approver, 'policy_set', { workspace: 'ruled', preset: 'trusted', rules: [{ paths: [`notes/${note.id as string}`], decision: 'deny' }] });
      const denied = await agent.call('note_update', { id: note.id, version: 1, body: 'v2', workspace: 'ruled' });
      expect(denied).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
      expect(denied.text).toContain('denies note_update (rule 1)');
      expect(await agent.call('task_update', { id: 'task_none', status: 'done', workspace: 'ruled' })).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
      expect(await agent.call('note_link', { from: note.id, type: 'relates', path: 'x.ts', workspace: 'ruled' })).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
      expect(await agent.call('artifact_add', { note: note.id, content: 'x', workspace: 'ruled' })).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
      expect(await agent.call('note_delete', { id: note.id, workspace: 'ruled' })).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
      // Other notes are not covered by that rule.
      expect((await agent.call('note_create', { title: 'Free', workspace: 'ruled' })).isError).toBe(false);

      await ok(approver, 'policy_set', { workspace: 'ruled', preset: 'trusted', rules: [{ paths: ['notes/**'], decision: 'review' }] });
      expect((await agent.call('note_create', { title: 'Reviewed by path', workspace: 'ruled' })).structured).toMatchObject({ status: 'pending_approval' });
      // The rule is about notes: file writes elsewhere run at once.
      expect((await agent.call('file_write', { path: 'src/x.ts', content: 'x', workspace: 'ruled' })).structured).toMatchObject({ created: true });

      await ok(approver, 'policy_set', { workspace: 'ruled', preset: 'trusted', rules: [{ operation: 'note_*', decision: 'deny' }] });
      expect(await agent.call('note_create', { title: 'No', workspace: 'ruled' })).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
      // Reads are never subject to policy.
      expect((await agent.call('note_get', { id: note.id, workspace: 'ruled' })).isError).toBe(false);
      expect((await agent.call('note_search', { query: 'Guarded', workspace: 'ruled' })).isError).toBe(false);
      expect(await ok(agent, 'note_get', { id: note.id, workspace: 'ruled' })).toMatchObject({ version: 1, body: 'v1' });
    });
  });
});
