import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { eventually, syncClient, type SyncClient } from '../helpers/sync-clients.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/test-server.js';

describe('real-time sync over the y-websocket protocol', () => {
  let server: TestServer;
  let agent: McpClient;
  let token: string;
  let root: string;
  const clients: SyncClient[] = [];
  const open = (room: string, as: string | null = token, name?: string) => {
    const client = syncClient(server.url.host, room, as ?? undefined, name ? { name } : {});
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    server = await startTestServer({
      localSandbox: 'off',
      allowUnsandboxed: true,
      syncWriteDebounceMs: 50,
      syncUnloadAfterMs: 100,
      syncMaxUpdateBytes: 64 * 1024,
      syncMessagesPerSecond: 400,
    });
    token = server.token('acme', 'alice');
    agent = await connectModernHttp(server.url, server.token('acme', 'agent-1'));
    const created = await agent.call('workspace_create', { name: 'live' });
    root = (created.structured as { root: string }).root;
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await agent?.close();
    await server?.close();
  });

  it('two stock clients and an agent editing one file at once converge, and the file on disk equals the document', async () => {
    await agent.call('file_write', { workspace: 'live', path: 'src/a.ts', content: 'const one = 1;\nconst two = 2;\n' });
    const a = open('live/file/src/a.ts');
    const b = open('live/file/src/a.ts', server.token('acme', 'bob'));
    await Promise.all([a.synced(), b.synced()]);
    expect(a.text.toString()).toBe('const one = 1;\nconst two = 2;\n');

    a.text.insert(0, '// alice\n');
    b.text.insert(b.text.length, '// bob\n');
    const edit = await agent.call('file_edit', { workspace: 'live', path: 'src/a.ts', edits: [{ old: 'two = 2', new: 'two = 22' }] });
    expect(edit.isError).toBe(false);

    const expected = '// alice\nconst one = 1;\nconst two = 22;\n// bob\n';
    await a.until((text) => text === expected);
    await b.until((text) => text === expected);
    await eventually(() => readFileSync(join(root, 'src/a.ts'), 'utf8') === expected, 'the file equals the document');
    const read = await agent.call('file_read', { workspace: 'live', path: 'src/a.ts' });
    expect(read.structured?.content).toBe(expected.slice(0, -1));
  });

  it("writes a human's edit as that human's file_write action, in the audit trail and in doc_history", async () => {
    await agent.call('file_write', { workspace: 'live', path: 'notes.md', content: 'draft\n' });
    const human = open('live/file/notes.md', server.token('acme', 'erin'), 'Erin');
    await human.synced();
    human.text.insert(5, ' two');
    await eventually(() => readFileSync(join(root, 'notes.md'), 'utf8') === 'draft two\n', 'the edit on disk');

    const audit = await agent.call('audit_query', { actor: 'acme/erin', operation: 'file_write' });
    const events = (audit.structured as { events: Array<{ actor: string; action_id: string; correlation_id: string; details: Record<string, unknown> }> }).events;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: 'acme/erin', details: { operation: 'file_write', status: 'succeeded' } });
    expect(events[0]!.correlation_id).toMatch(/^sync:/);

    const history = await agent.call('doc_history', { workspace: 'live', path: 'notes.md' });
    const entries = (history.structured as { entries: Array<{ seq: number; author: string | null; action_id: string | null; origin: string }> }).entries;
    expect(entries.map((entry) => [entry.origin, entry.author])).toEqual([
      ['disk', null],
      ['client', 'acme/erin'],
    ]);
    expect(entries[1]!.action_id).toBe(events[0]!.action_id);
  });

  it('doc_at replays the exact earlier contents', async () => {
    await agent.call('file_write', { workspace: 'live', path: 'replay.txt', content: 'v1\n' });
    const human = open('live/file/replay.txt');
    await human.synced();
    human.text.insert(2, ' by alice');
    await eventually(() => readFileSync(join(root, 'replay.txt'), 'utf8') === 'v1 by alice\n', 'the human edit on disk');
    const written = await agent.call('file_write', { workspace: 'live', path: 'replay.txt', content: 'v3 rewritten\n' });
    await human.until((text) => text === 'v3 rewritten\n');

    const history = await agent.call('doc_history', { workspace: 'live', path: 'replay.txt' });
    const entries = (history.structured as { entries: Array<{ seq: number; origin: string; action_id: string | null }> }).entries;
    expect(entries.map((entry) => entry.origin)).toEqual(['disk', 'client', 'disk']);
    expect(entries[2]!.action_id).toBe(written.meta?.['codebuddy/action_id']);
    const at = async (seq: number) => ((await agent.call('doc_at', { workspace: 'live', path: 'replay.txt', at: seq })).structured as { content: string }).content;
    expect(await at(entries[0]!.seq)).toBe('v1\n');
    expect(await at(entries[1]!.seq)).toBe('v1 by alice\n');
    expect(await at(entries[2]!.seq)).toBe('v3 rewritten\n');
    expect(await at(0)).toBe('');
  });

  it('workspace_state shows who has which file open and where their cursor is', async () => {
    await agent.call('file_write', { workspace: 'live', path: 'cursor.ts', content: 'line one\nline two\n' });
    const human = open('live/file/cursor.ts', token, 'Alice');
    await human.synced();
    const Y = await import('yjs');
    const at = (index: number) => Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(human.text, index));
    human.provider.awareness.setLocalStateField('cursor', { anchor: at(9), head: at(13) });
    type Files = Array<{ path: string; editors: Array<{ user: string; cursors: unknown[] }> }>;
    // The awareness update reaches the server after the call above returns: ask until it has.
    let result = await agent.call('workspace_state', { workspace: 'live' });
    const cursorOf = () => (result.structured as { files: Files }).files.find((file) => file.path === 'cursor.ts');
    for (let tries = 0; cursorOf()?.editors[0]?.cursors.length !== 1 && tries < 200; tries++) result = await agent.call('workspace_state', { workspace: 'live' });
    const entry = cursorOf();
    expect(entry?.editors).toEqual([{ user: 'acme/alice', read_only: false, name: 'Alice', cursors: [{ anchor: { line: 2, column: 1 }, head: { line: 2, column: 5 } }] }]);
    expect(result.text).toContain('cursor.ts  acme/alice (Alice)  at 2:1-2:5');
  });

  it('puts the document back to the file when the policy holds a human edit, tells the author, and follows the file once it is approved', async () => {
    const reviewedRoot = ((await agent.call('workspace_create', { name: 'reviewed' })).structured as { root: string }).root;
    await agent.call('file_write', { workspace: 'reviewed', path: 'plan.md', content: 'plan\n' });
    const approver = await connectModernHttp(server.url, server.token('acme', 'boss', 'approver'));
    await approver.call('policy_set', { workspace: 'reviewed', preset: 'review-writes' });
    const human = open('reviewed/file/plan.md');
    const watcher = open('reviewed/file/plan.md', server.token('acme', 'bob'));
    await Promise.all([human.synced(), watcher.synced()]);
    human.text.insert(4, ' B');
    // Held: the author is told why, and the document goes back to what the file says, for everyone.
    await eventually(() => human.denials.length > 0, 'the author is told');
    await human.until((text) => text === 'plan\n');
    await watcher.until((text) => text === 'plan\n');
    const held = /held for approval as action (\S+);/.exec(human.denials.at(-1)!)?.[1];
    expect(held).toBeDefined();
    expect(readFileSync(join(reviewedRoot, 'plan.md'), 'utf8')).toBe('plan\n');

    const approved = await approver.call('action_approve', { id: held });
    expect(approved.isError).toBe(false);
    await human.until((text) => text === 'plan B\n');
    await watcher.until((text) => text === 'plan B\n');
    await approver.close();
  });

  it('shows who is present in the workspace state room, which carries awareness only', async () => {
    const present = open('live/state', server.token('acme', 'frank'), 'Frank');
    await present.synced();
    let result = await agent.call('workspace_state', { workspace: 'live' });
    const names = () => (result.structured as { present: Array<{ user: string; name?: string }> }).present;
    for (let tries = 0; !names().some((p) => p.name === 'Frank') && tries < 200; tries++) result = await agent.call('workspace_state', { workspace: 'live' });
    expect(names()).toContainEqual({ user: 'acme/frank', name: 'Frank' });
    present.text.insert(0, 'not a document');
    await eventually(() => present.denials.includes('this room carries awareness only, not document changes'), 'the refusal');
  });

  it('closes a file room when its file is deleted, and keeps its history', async () => {
    await agent.call('file_write', { workspace: 'live', path: 'doomed.txt', content: 'soon gone\n' });
    const human = open('live/file/doomed.txt');
    await human.synced();
    await agent.call('file_delete', { workspace: 'live', path: 'doomed.txt' });
    expect(await human.closed).toEqual({ code: 4404, reason: 'the file was deleted' });
    const history = await agent.call('doc_history', { workspace: 'live', path: 'doomed.txt' });
    expect((history.structured as { entries: unknown[] }).entries).toHaveLength(1);
  });

  it('compacts a long-edited document into a snapshot and loads it back whole', async () => {
    await agent.call('file_write', { workspace: 'live', path: 'long.txt', content: '' });
    const human = open('live/file/long.txt');
    await human.synced();
    for (let i = 0; i < 700; i++) human.text.insert(human.text.length, `${i % 10}`);
    const expected = Array.from({ length: 700 }, (_, i) => `${i % 10}`).join('');
    await eventually(() => readFileSync(join(root, 'long.txt'), 'utf8') === expected, 'the document on disk');
    human.destroy();
    const row = () => server.app.db.prepare("SELECT snapshot_seq, length(snapshot) AS bytes FROM sync_documents WHERE doc_key = 'file:long.txt'").get() as { snapshot_seq: number; bytes: number };
    expect(row().snapshot_seq).toBeGreaterThanOrEqual(500);
    // The history keeps edits, not keystrokes: runs of one author's updates merged, the content at the end exact.
    const history = await agent.call('doc_history', { workspace: 'live', path: 'long.txt' });
    expect((history.structured as { entries: Array<{ seq: number }> }).entries[0]!.seq).toBeGreaterThan(1);
    // The first 500 keystrokes (compacted) are a few entries, one per write at most; the 200 after the snapshot are not merged yet.
    const compacted = server.app.db.prepare("SELECT count(*) FROM sync_updates WHERE doc_key = 'file:long.txt' AND seq <= 500").pluck().get() as number;
    expect(compacted).toBeLessThan(20);
    const now = ((await agent.call('doc_at', { workspace: 'live', path: 'long.txt', at: new Date().toISOString() })).structured as { content: string }).content;
    expect(now).toBe(expected);
    const at500 = ((await agent.call('doc_at', { workspace: 'live', path: 'long.txt', at: 500 })).structured as { content: string }).content;
    expect(at500).toBe(expected.slice(0, 500));
    // Unloaded once nobody is in it; loaded again from the snapshot and what followed.
    await eventually(() => !server.app.sync.openRooms('acme', server.app.workspaces.resolve({ tenantId: 'acme', userId: 'x', role: 'agent' }, 'live').id).some((room) => room.path === 'long.txt'), 'the room unloaded');
    const again = open('live/file/long.txt', server.token('acme', 'bob'));
    await again.synced();
    expect(again.text.toString()).toBe(expected);
  });

  describe('bounds', () => {
    it('closes a client that sends one huge update (4413), and the document never sees it', async () => {
      await agent.call('file_write', { workspace: 'live', path: 'huge.txt', content: 'small\n' });
      const attacker = open('live/file/huge.txt');
      const bystander = open('live/file/huge.txt', server.token('acme', 'bob'));
      await Promise.all([attacker.synced(), bystander.synced()]);
      attacker.text.insert(0, 'x'.repeat(100 * 1024));
      expect(await attacker.closed).toEqual({ code: 4413, reason: 'a message is at most 65536 bytes' });
      bystander.text.insert(0, 'fine ');
      await eventually(() => readFileSync(join(root, 'huge.txt'), 'utf8') === 'fine small\n', 'the bystander edit on disk');
      expect(bystander.text.toString()).toBe('fine small\n');
    });

    it("paces a client that floods updates without losing any, while another client's edits go through at once", async () => {
      await agent.call('file_write', { workspace: 'live', path: 'flood.txt', content: '\n' });
      const flooder = open('live/file/flood.txt');
      const typist = open('live/file/flood.txt', server.token('acme', 'bob'));
      const reader = open('live/file/flood.txt', server.token('acme', 'carol'));
      await Promise.all([flooder.synced(), typist.synced(), reader.synced()]);
      // 3000 updates: more than seven seconds' worth at 400 a second.
      for (let i = 0; i < 3000; i++) flooder.text.insert(flooder.text.length, `F${'f'.repeat(39)}`);
      const count = (text: string) => text.split('F').length - 1;
      await reader.until((text) => count(text) > 0);
      typist.text.insert(0, 'typed');
      const seen = await reader.until((text) => text.startsWith('typed'), 5_000);
      // The typist got through while the flood was still being paced.
      expect(count(seen)).toBeLessThan(3000);
      await reader.until((text) => count(text) === 3000, 60_000);
    }, 90_000);
  });

  describe('refusals', () => {
    it('refuses a connection without a token, or with a bad one (4401)', async () => {
      await agent.call('file_write', { workspace: 'live', path: 'secret.txt', content: 'x\n' });
      expect(await open('live/file/secret.txt', null).closed).toMatchObject({ code: 4401 });
      expect(await open('live/file/secret.txt', 'cb_not-a-token').closed).toMatchObject({ code: 4401 });
    });

    it('refuses an upgrade from a foreign Origin or to a foreign Host before it is a socket', async () => {
      const { default: WebSocket } = await import('ws');
      const attempt = (headers: Record<string, string>) =>
        new Promise<number | string>((resolve) => {
          const socket = new WebSocket(`ws://${server.url.host}/sync/live/file/secret.txt?token=${token}`, { headers });
          socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
          socket.on('open', () => resolve('opened'));
          socket.on('error', (error) => resolve(`error ${error.message}`));
        });
      expect(await attempt({ origin: 'http://evil.example' })).toBe(403);
      expect(await attempt({ host: 'evil.example' })).toBe(403);
    });

    it("refuses another tenant's room, a path leading out and a missing file exactly alike (4404)", async () => {
      const outside = tempDir('codebuddy-outside-');
      writeFileSync(join(outside, 'passwd'), 'root:x\n');
      symlinkSync(outside, join(root, 'escape'));
      mkdirSync(join(root, 'dir'), { recursive: true });
      const stranger = server.token('globex', 'eve');
      const refusals = await Promise.all(
        [
          open('live/file/secret.txt', stranger),
          open('live/file/missing.txt'),
          open('live/file/escape/passwd'),
          // %2F is not a separator to the URL parser, so `..` reaches the server as written.
          open('live%2Ffile%2F..%2F..%2F..%2Fetc%2Fpasswd'),
          open(`live/file/${encodeURIComponent('/etc/passwd')}`),
          open('nowhere/file/a.txt'),
          open('live/other/a.txt'),
        ].map((client) => client.closed),
      );
      for (const refusal of refusals) expect(refusal).toEqual({ code: 4404, reason: 'no such room' });
    });

    it('refuses binary and oversized files clearly', async () => {
      writeFileSync(join(root, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 1]));
      expect(await open('live/file/image.png').closed).toEqual({ code: 4415, reason: 'a binary file: not syncable' });
      expect(await open('live/file/dir').closed).toEqual({ code: 4415, reason: 'not a regular file: not syncable' });
    });

    it("gives a principal the policy denies writes a read-only connection: its updates are refused and it is told", async () => {
      await agent.call('file_write', { workspace: 'live', path: 'locked.txt', content: 'locked\n' });
      const approver = await connectModernHttp(server.url, server.token('acme', 'boss', 'approver'));
      await approver.call('policy_set', { workspace: 'live', preset: 'trusted', rules: [{ paths: ['locked.txt'], decision: 'deny' }] });
      const reader = open('live/file/locked.txt');
      const other = open('live/file/locked.txt', server.token('acme', 'carol'));
      await Promise.all([reader.synced(), other.synced()]);
      expect(reader.denials[0]).toMatch(/^read-only: the policy of workspace live denies you file_write on locked.txt/);
      reader.text.insert(0, 'HACKED ');
      // A change after it (a command writing the file, heard by the watcher) reaches the others: the refused edit never did.
      writeFileSync(join(root, 'locked.txt'), 'locked\nby a command\n');
      await other.until((text) => text === 'locked\nby a command\n');
      await reader.until((text) => text === 'HACKED locked\nby a command\n');
      expect(readFileSync(join(root, 'locked.txt'), 'utf8')).toBe('locked\nby a command\n');
      await approver.call('policy_set', { workspace: 'live', preset: 'trusted' });
      await approver.close();
    });
  });
});
