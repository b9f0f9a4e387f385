import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { CLI, connectModernHttp } from '../helpers/mcp-clients.js';
import { startServeProcess } from '../helpers/serve-process.js';
import { eventually, syncClient } from '../helpers/sync-clients.js';
import { tempDir } from '../helpers/test-server.js';

const run = promisify(execFile);

describe('a sync server killed with SIGKILL mid-session', () => {
  it('loses nothing a client saw, and a reconnecting client receives a delta, not the document', async () => {
    const dataDir = tempDir();
    const token = async (user: string) => (await run(process.execPath, [CLI, '--data-dir', dataDir, 'token', 'create', '--tenant', 'acme', '--user', user])).stdout.trim();
    const [alice, bob] = [await token('alice'), await token('bob')];
    // A long write delay: alice's edit is stored but not yet written when the server dies.
    const env = { CODEBUDDY_SYNC_WRITE_DEBOUNCE_MS: '60000' };
    let server = await startServeProcess(dataDir, { env });
    const port = Number(server.url.port);
    const agent = await connectModernHttp(server.url, alice);
    const root = ((await agent.call('workspace_create', { name: 'live' })).structured as { root: string }).root;
    const body = Array.from({ length: 2000 }, (_, i) => `line ${i} of a long file`).join('\n') + '\n';
    await agent.call('file_write', { path: 'big.txt', content: body });
    await agent.close();

    const a = syncClient(`127.0.0.1:${port}`, 'live/file/big.txt', alice);
    const b = syncClient(`127.0.0.1:${port}`, 'live/file/big.txt', bob);
    try {
      await Promise.all([a.synced(), b.synced()]);
      a.text.insert(0, 'EDIT BY ALICE\n');
      // Bob sees it: it was stored before it was relayed.
      await b.until((text) => text.startsWith('EDIT BY ALICE\n'));

      server.child.kill('SIGKILL');
      await new Promise((resolve) => server.child.once('exit', resolve));
      await eventually(() => !a.provider.wsconnected, 'alice sees the server go');
      const before = a.received();
      server = await startServeProcess(dataDir, { port, env });
      a.provider.synced = false;
      await a.synced(30_000);
      await b.until((text) => text === `EDIT BY ALICE\n${body}`, 30_000);

      // What alice received to catch up: the server's state vector and an empty diff, not 50 KB.
      const whole = Y.encodeStateAsUpdate(a.doc).length;
      expect(whole).toBeGreaterThan(40_000);
      expect(a.received() - before).toBeLessThan(1_000);
      expect(a.text.toString()).toBe(`EDIT BY ALICE\n${body}`);

      // The log goes on after the crash: the room numbers new updates after the stored ones
      // (a reused number would be refused by the primary key and close the room).
      b.text.insert(0, 'AFTER THE CRASH\n');
      await a.until((text) => text === `AFTER THE CRASH\nEDIT BY ALICE\n${body}`, 30_000);
      const historian = await connectModernHttp(server.url, alice);
      const history = await historian.call('doc_history', { workspace: 'live', path: 'big.txt' });
      const seqs = ((history.structured as { entries: Array<{ seq: number }> }).entries ?? []).map((entry) => entry.seq);
      expect(seqs.length).toBeGreaterThanOrEqual(3);
      expect(seqs).toEqual([...new Set(seqs)].sort((x, y) => x - y));
      await historian.close();

      // A newcomer gets everything; and the edit stored before the crash is written to disk as alice's.
      const c = syncClient(`127.0.0.1:${port}`, 'live/file/big.txt', bob);
      await c.synced();
      expect(c.text.toString()).toBe(`AFTER THE CRASH\nEDIT BY ALICE\n${body}`);
      c.destroy();
      await eventually(() => readFileSync(join(root, 'big.txt'), 'utf8').startsWith('AFTER THE CRASH\nEDIT BY ALICE\n'), 'the recovered edit on disk');
      const checker = await connectModernHttp(server.url, alice);
      const audit = await checker.call('audit_query', { actor: 'acme/alice', operation: 'file_write' });
      const events = (audit.structured as { events: Array<{ correlation_id: string }> }).events;
      expect(events.filter((event) => event.correlation_id.startsWith('sync:'))).toHaveLength(1);
      await checker.close();
    } finally {
      a.destroy();
      b.destroy();
      server.child.kill('SIGKILL');
    }
  }, 120_000);
});
