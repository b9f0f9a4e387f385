import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, connectModernHttp } from '../helpers/mcp-clients.js';
import { startServeProcess } from '../helpers/serve-process.js';
import { eventually, syncClient } from '../helpers/sync-clients.js';
import { tempDir } from '../helpers/test-server.js';
import { succeed } from '../helpers/tool-calls.js';

const run = promisify(execFile);

describe('a note room on a server killed with SIGKILL before a human edit was written', () => {
  it('writes the stored edit as its author once the room loads again: note row, tasks and audit', async () => {
    const dataDir = tempDir();
    const alice = (await run(process.execPath, [CLI, '--data-dir', dataDir, 'token', 'create', '--tenant', 'acme', '--user', 'alice'])).stdout.trim();
    // A long write delay: the edit is stored (and relayed) but not yet written when the server dies.
    const env = { CODEBUDDY_SYNC_WRITE_DEBOUNCE_MS: '60000', CODEBUDDY_SYNC_WRITE_MAX_DELAY_MS: '60000' };
    let server = await startServeProcess(dataDir, { env });
    const port = Number(server.url.port);
    const agent = await connectModernHttp(server.url, alice);
    await succeed(agent, 'workspace_create', { name: 'live' });
    const id = (await succeed(agent, 'note_create', { title: 'Plan', body: 'draft\n- [ ] one\n' })).id as string;
    await agent.close();

    const a = syncClient(`127.0.0.1:${port}`, `live/note/${id}`, alice);
    const b = syncClient(`127.0.0.1:${port}`, `live/note/${id}`, alice);
    try {
      await Promise.all([a.synced(), b.synced()]);
      a.text.insert(a.text.length, '- [ ] two @alice\n');
      await b.until((text) => text === 'draft\n- [ ] one\n- [ ] two @alice\n');
      b.destroy();
      a.destroy();

      server.child.kill('SIGKILL');
      await new Promise((resolve) => server.child.once('exit', resolve));
      server = await startServeProcess(dataDir, { port, env });
      const checker = await connectModernHttp(server.url, alice);
      expect((await succeed(checker, 'note_get', { workspace: 'live', id })).body).toBe('draft\n- [ ] one\n');

      const c = syncClient(`127.0.0.1:${port}`, `live/note/${id}`, alice);
      await c.synced();
      expect(c.text.toString()).toBe('draft\n- [ ] one\n- [ ] two @alice\n');
      const note = await eventually(async () => {
        const got = await succeed(checker, 'note_get', { workspace: 'live', id });
        return got.version === 2 && got;
      }, 'the recovered edit in the note');
      c.destroy();
      expect(note.body).toBe('draft\n- [ ] one\n- [ ] two @alice\n');
      expect((note.tasks as Array<{ text: string; assignee: string | null }>).map(({ text, assignee }) => ({ text, assignee }))).toEqual([
        { text: 'one', assignee: null },
        { text: 'two @alice', assignee: 'alice' },
      ]);
      const audit = await succeed(checker, 'audit_query', { actor: 'acme/alice', operation: 'note_update' });
      const events = (audit as { events: Array<{ correlation_id: string }> }).events;
      expect(events.map((event) => event.correlation_id.startsWith('sync:'))).toEqual([true]);
      await checker.close();
    } finally {
      server.child.kill('SIGKILL');
    }
  }, 120_000);
});
