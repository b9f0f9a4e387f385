import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { eventually, syncClient, type SyncClient } from '../helpers/sync-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { succeed } from '../helpers/tool-calls.js';

interface Task {
  id: string;
  line: number;
  text: string;
  status: 'open' | 'done';
  assignee: string | null;
  due: string | null;
}
interface Note {
  id: string;
  version: number;
  body: string;
  tasks: Task[];
}
interface HistoryEntry {
  seq: number;
  author: string | null;
  action_id: string | null;
  origin: string;
}

describe('note rooms: note bodies as live documents, owned by the notes service', () => {
  let server: TestServer;
  let agent: McpClient;
  const clients: SyncClient[] = [];
  const open = (room: string, as: string, name?: string) => {
    const client = syncClient(server.url.host, room, as, name ? { name } : {});
    clients.push(client);
    return client;
  };
  const token = (user: string, role: 'agent' | 'approver' = 'agent') => server.token('acme', user, role);
  const note = async (workspace: string, id: string) => (await succeed(agent, 'note_get', { workspace, id })) as unknown as Note;
  const history = async (workspace: string, id: string) => ((await succeed(agent, 'doc_history', { workspace, note: id })) as { entries: HistoryEntry[] }).entries;
  const create = async (workspace: string, body: string) => ((await succeed(agent, 'note_create', { workspace, title: 'Plan', body })) as { id: string }).id;

  beforeAll(async () => {
    server = await startTestServer({ localSandbox: 'off', allowUnsandboxed: true, syncWriteDebounceMs: 50, syncUnloadAfterMs: 100, noteMaxBytes: 4096 });
    agent = await connectModernHttp(server.url, token('agent-1'));
    await succeed(agent, 'workspace_create', { name: 'live' });
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await agent?.close();
    await server?.close();
  });

  it('two stock clients and an agent (note_update, task_update) co-edit a note and converge; the note row equals the document', async () => {
    const id = await create('live', '# Plan\n- [ ] write tests\n- [ ] ship\n');
    const [writeTests] = (await note('live', id)).tasks;
    const a = open(`live/note/${id}`, token('alice'));
    const b = open(`live/note/${id}`, token('bob'));
    await Promise.all([a.synced(), b.synced()]);
    expect(a.text.toString()).toBe('# Plan\n- [ ] write tests\n- [ ] ship\n');

    // At once: two humans type, and the agent ticks a task (which rewrites its checkbox line in the body).
    a.text.insert(a.text.length, '- [ ] alice task @alice\n');
    b.text.insert(0, '> by bob\n');
    const ticked = await agent.call('task_update', { workspace: 'live', id: writeTests!.id, status: 'done' });
    expect(ticked.isError).toBe(false);

    const expected = '> by bob\n# Plan\n- [x] write tests\n- [ ] ship\n- [ ] alice task @alice\n';
    await a.until((text) => text === expected);
    await b.until((text) => text === expected);
    const stored = await eventually(async () => (await note('live', id)).body === expected, 'the note row equals the document');
    expect(stored).toBe(true);

    // An agent's note_update, based on the version it read, reaches both clients as a diff tagged with its action.
    const before = await note('live', id);
    const updated = await agent.call('note_update', { workspace: 'live', id, version: before.version, body: expected.replace('ship', 'ship it') });
    expect(updated.isError).toBe(false);
    const final = expected.replace('ship', 'ship it');
    await a.until((text) => text === final);
    await b.until((text) => text === final);
    const entries = await history('live', id);
    expect(entries.at(-1)).toMatchObject({ origin: 'disk', author: null, action_id: updated.meta?.['codebuddy/action_id'] });
    // The task_update's change is in the history under its own action id as well.
    expect(entries.some((entry) => entry.action_id === ticked.meta?.['codebuddy/action_id'])).toBe(true);

    const tasks = (await note('live', id)).tasks.map(({ text, status, assignee }) => ({ text, status, assignee }));
    expect(tasks).toEqual([
      { text: 'write tests', status: 'done', assignee: null },
      { text: 'ship it', status: 'open', assignee: null },
      { text: 'alice task @alice', status: 'open', assignee: 'alice' },
    ]);
  });

  it("writes a human's edit as that human's note_update: in note_get, in the audit trail, and its tasks extracted", async () => {
    const id = await create('live', 'Review list\n');
    const human = open(`live/note/${id}`, token('erin'), 'Erin');
    await human.synced();
    // The agent sees who has the note open (awareness reaches the server after the sync: asked until it has).
    type State = { notes: Array<{ note: string; editors: Array<{ user: string; name?: string }> }> };
    const state = await eventually(async () => {
      const answer = await agent.call('workspace_state', { workspace: 'live' });
      return (answer.structured as State).notes.find((entry) => entry.note === id)?.editors.some((editor) => editor.name === 'Erin') && answer;
    }, 'Erin in workspace_state');
    expect((state.structured as State).notes.find((entry) => entry.note === id)!.editors).toEqual([{ user: 'acme/erin', read_only: false, name: 'Erin', cursors: [] }]);
    expect(state.text).toContain(`note ${id}  acme/erin (Erin)`);
    human.text.insert(human.text.length, '- [ ] review the parser @erin due:2026-12-01\n');
    const body = 'Review list\n- [ ] review the parser @erin due:2026-12-01\n';
    await eventually(async () => (await note('live', id)).body === body, 'the edit in the note');

    const stored = await note('live', id);
    expect(stored.version).toBe(2);
    expect(stored.tasks.map(({ line, text, status, assignee, due }) => ({ line, text, status, assignee, due }))).toEqual([
      { line: 2, text: 'review the parser @erin due:2026-12-01', status: 'open', assignee: 'erin', due: '2026-12-01' },
    ]);
    const listed = (await succeed(agent, 'task_list', { workspace: 'live', assignee: 'erin' })) as { tasks: Task[] };
    expect(listed.tasks.map((task) => task.id)).toEqual([stored.tasks[0]!.id]);

    const audit = await succeed(agent, 'audit_query', { actor: 'acme/erin', operation: 'note_update' });
    const events = (audit as { events: Array<{ actor: string; action_id: string; correlation_id: string; details: Record<string, unknown> }> }).events;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: 'acme/erin', details: { operation: 'note_update', status: 'succeeded' } });
    expect(events[0]!.correlation_id).toMatch(/^sync:/);

    const entries = await history('live', id);
    expect(entries.map((entry) => [entry.origin, entry.author, entry.action_id])).toEqual([
      ['disk', null, null],
      ['client', 'acme/erin', events[0]!.action_id],
    ]);
    const at = async (seq: number) => ((await succeed(agent, 'doc_at', { workspace: 'live', note: id, at: seq })) as { note: string; content: string });
    expect(await at(entries[0]!.seq)).toMatchObject({ note: id, content: 'Review list\n' });
    expect((await at(entries[1]!.seq)).content).toBe(body);
  });

  it('puts the document back to the stored note when review-writes holds a human edit, names the proposal, and follows once approved', async () => {
    await succeed(agent, 'workspace_create', { name: 'reviewed' });
    const id = await create('reviewed', 'plan\n');
    const approver = await connectModernHttp(server.url, token('boss', 'approver'));
    await succeed(approver, 'policy_set', { workspace: 'reviewed', preset: 'review-writes' });
    const human = open(`reviewed/note/${id}`, token('alice'));
    const watcher = open(`reviewed/note/${id}`, token('bob'));
    await Promise.all([human.synced(), watcher.synced()]);
    human.text.insert(4, ' B');

    await eventually(() => human.denials.length > 0, 'the author is told');
    const reason = human.denials.at(-1)!;
    expect(reason).toMatch(new RegExp(`^your edit to note ${id} is held for approval as action \\S+; the document shows the stored note until it is approved$`));
    await human.until((text) => text === 'plan\n');
    await watcher.until((text) => text === 'plan\n');
    expect(watcher.denials).toEqual([]);
    expect((await note('reviewed', id)).body).toBe('plan\n');

    const held = /as action (\S+);/.exec(reason)![1]!;
    const proposal = await succeed(approver, 'action_get', { id: held });
    expect(JSON.stringify(proposal)).toContain('note_update');
    const approved = await approver.call('action_approve', { id: held });
    expect(approved.isError, approved.text).toBe(false);
    await human.until((text) => text === 'plan B\n');
    await watcher.until((text) => text === 'plan B\n');
    expect((await note('reviewed', id)).body).toBe('plan B\n');
    await approver.close();
  });

  it('gives a principal the policy denies note writes a read-only connection, and keeps nothing it sends', async () => {
    await succeed(agent, 'workspace_create', { name: 'locked' });
    const id = await create('locked', 'fixed\n');
    const approver = await connectModernHttp(server.url, token('boss', 'approver'));
    await succeed(approver, 'policy_set', { workspace: 'locked', preset: 'trusted', rules: [{ paths: ['notes/**'], decision: 'deny' }] });
    const other = open(`locked/note/${id}`, token('carol'));
    await other.synced();
    const reader = open(`locked/note/${id}`, token('mallory'));
    await reader.synced();
    expect(reader.denials[0]).toBe(`read-only: the policy of workspace locked denies you note_update on note ${id} (rule 1); your edits are not kept`);
    reader.text.insert(0, 'HACKED ');
    // The server reads a socket in order: once the reader's awareness after its edit reaches
    // the other client, the edit has been dealt with.
    reader.provider.awareness.setLocalStateField('marker', 'after the edit');
    await eventually(() => [...other.provider.awareness.getStates().values()].some((state) => state.marker === 'after the edit'), 'the awareness after the edit');
    expect(other.text.toString()).toBe('fixed\n');
    expect((await note('locked', id)).body).toBe('fixed\n');
    await approver.close();
  });

  it("refuses another tenant's note, another workspace's note and a missing note exactly alike (4404)", async () => {
    const id = await create('live', 'acme only\n');
    await succeed(agent, 'workspace_create', { name: 'sibling' });
    const liveId = ((await succeed(agent, 'workspace_list', {})) as { workspaces: Array<{ id: string; name: string }> }).workspaces.find((w) => w.name === 'live')!.id;
    // The other tenant has a workspace of the same name: its lookup of acme's note id must still find nothing.
    const stranger = server.token('globex', 'eve');
    const globex = await connectModernHttp(server.url, stranger);
    await succeed(globex, 'workspace_create', { name: 'live' });
    const refusals = await Promise.all(
      [
        open(`live/note/${id}`, stranger),
        open(`${liveId}/note/${id}`, stranger),
        open(`sibling/note/${id}`, token('alice')),
        open('live/note/note_missing', token('alice')),
        open(`live/note/${encodeURIComponent('../x')}`, token('alice')),
      ].map((client) => client.closed),
    );
    for (const refusal of refusals) expect(refusal).toEqual({ code: 4404, reason: 'no such room' });
    // Its history (it has one now: acme opens the room) is not theirs to read either: answered as for a note that never existed.
    const own = open(`live/note/${id}`, token('alice'));
    await own.synced();
    expect(await history('live', id)).toHaveLength(1);
    for (const [client, workspace] of [[globex, 'live'], [agent, 'sibling']] as const) {
      const crossed = await client.call('doc_history', { workspace, note: id });
      const missing = await client.call('doc_history', { workspace, note: 'note_missing' });
      expect(missing).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
      expect(crossed.text.replace(id, 'ID')).toBe(missing.text.replace('note_missing', 'ID'));
    }
    await globex.close();
  });

  it('puts back a body the notes service would refuse (over the size limit, a NUL) and tells the author why', async () => {
    const id = await create('live', 'small\n');
    const human = open(`live/note/${id}`, token('alice'));
    const watcher = open(`live/note/${id}`, token('bob'));
    await Promise.all([human.synced(), watcher.synced()]);

    human.text.insert(0, 'x'.repeat(5000));
    await eventually(() => human.denials.length > 0, 'the size refusal');
    expect(human.denials.at(-1)).toBe(`the document is larger than 4096 bytes, the most written to note ${id}; it was put back to the stored note`);
    await human.until((text) => text === 'small\n');
    await watcher.until((text) => text === 'small\n');

    human.text.insert(0, 'nul\u0000');
    await eventually(() => human.denials.length > 1, 'the NUL refusal');
    expect(human.denials.at(-1)).toMatch(new RegExp(`^your edit to note ${id} was not written \\(E_INVALID_ARGUMENT: .*NUL.*\\); the document was put back to the stored note$`));
    await human.until((text) => text === 'small\n');
    await watcher.until((text) => text === 'small\n');
    const stored = await note('live', id);
    expect([stored.body, stored.version]).toEqual(['small\n', 1]);
  });

  it('closes a note room when the note is deleted (4404), and keeps its history', async () => {
    const id = await create('live', 'soon gone\n');
    const human = open(`live/note/${id}`, token('alice'));
    await human.synced();
    await succeed(agent, 'note_delete', { workspace: 'live', id });
    expect(await human.closed).toEqual({ code: 4404, reason: 'the note was deleted' });
    expect(await history('live', id)).toHaveLength(1);
    expect(await open(`live/note/${id}`, token('alice')).closed).toEqual({ code: 4404, reason: 'no such room' });
  });
});
