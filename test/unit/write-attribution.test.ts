import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { FileService } from '../../src/files/file-service.js';
import { RecentWrites } from '../../src/files/recent-writes.js';
import { openDatabase } from '../../src/store/database.js';
import { SyncRepository, type DocRef } from '../../src/store/sync-repository.js';
import { DocumentBridge, type SourceText } from '../../src/sync/document-bridge.js';
import { FileSource } from '../../src/sync/file-source.js';
import { SyncRoom } from '../../src/sync/sync-room.js';
import type { Workspace } from '../../src/workspaces/workspace.js';
import { tempDir } from '../helpers/test-server.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const limits = { maxFileBytes: 1024 * 1024, readPageLines: 500, readPageBytes: 65_536 };

function workspaceAt(root: string, id = 'ws_unit'): Workspace {
  return { id, tenantId: 'unit', name: 'unit', root, adopted: true, runtime: 'local', status: 'ready', createdBy: 'unit', createdAt: 0 } as Workspace;
}

describe('RecentWrites', () => {
  it('names the newest action that wrote a content, per workspace and path, and forgets a failed write', () => {
    const writes = new RecentWrites();
    writes.begin('ws1', 'a.txt', sha('one'), 'act_1');
    writes.begin('ws1', 'a.txt', sha('two'), 'act_2');
    const forget = writes.begin('ws1', 'a.txt', sha('one'), 'act_3');
    expect(writes.actionOf('ws1', 'a.txt', sha('one'))).toBe('act_3');
    expect(writes.actionOf('ws1', 'a.txt', sha('two'))).toBe('act_2');
    expect(writes.actionOf('ws1', 'b.txt', sha('one'))).toBeUndefined();
    expect(writes.actionOf('ws2', 'a.txt', sha('one'))).toBeUndefined();
    forget();
    expect(writes.actionOf('ws1', 'a.txt', sha('one'))).toBe('act_1');
    forget();
    expect(writes.actionOf('ws1', 'a.txt', sha('one'))).toBe('act_1');
    writes.forgetWorkspace('ws1');
    expect(writes.actionOf('ws1', 'a.txt', sha('two'))).toBeUndefined();
  });

  it('keeps a bounded number of writes per path and of paths, the least recently written going first', () => {
    const writes = new RecentWrites(2, 2);
    writes.begin('ws', 'a', sha('a1'), 'act_a1');
    writes.begin('ws', 'a', sha('a2'), 'act_a2');
    writes.begin('ws', 'a', sha('a3'), 'act_a3');
    expect(writes.actionOf('ws', 'a', sha('a1'))).toBeUndefined();
    expect(writes.actionOf('ws', 'a', sha('a2'))).toBe('act_a2');
    writes.begin('ws', 'b', sha('b1'), 'act_b1');
    writes.begin('ws', 'a', sha('a4'), 'act_a4');
    writes.begin('ws', 'c', sha('c1'), 'act_c1');
    expect(writes.actionOf('ws', 'b', sha('b1'))).toBeUndefined();
    expect(writes.actionOf('ws', 'a', sha('a4'))).toBe('act_a4');
    expect(writes.actionOf('ws', 'c', sha('c1'))).toBe('act_c1');
  });
});

describe('FileService.writerOf', () => {
  it('knows the action of its own writes, edits and change sets by content, and nothing else', async () => {
    const root = tempDir();
    const workspace = workspaceAt(root);
    const files = new FileService(limits);
    await files.write(workspace, { path: 'a.txt', content: 'by the agent\n' }, { actionId: 'act_write' });
    expect(files.writerOf(workspace, 'a.txt', sha('by the agent\n'))).toBe('act_write');
    await files.edit(workspace, { path: 'a.txt', edits: [{ old: 'agent', new: 'editor' }] }, { actionId: 'act_edit' });
    expect(files.writerOf(workspace, 'a.txt', sha('by the editor\n'))).toBe('act_edit');
    await files.applyChangeSet(workspace, { entries: [{ path: 'b.txt', base: null, content: Buffer.from('planned\n') }] }, { actionId: 'act_refactor' });
    expect(files.writerOf(workspace, 'b.txt', sha('planned\n'))).toBe('act_refactor');
    // A write no action made, a content nobody wrote, another workspace: unknown.
    await files.write(workspace, { path: 'c.txt', content: 'anonymous\n' });
    expect(files.writerOf(workspace, 'c.txt', sha('anonymous\n'))).toBeUndefined();
    writeFileSync(join(root, 'a.txt'), 'by a command\n');
    expect(files.writerOf(workspace, 'a.txt', sha('by a command\n'))).toBeUndefined();
    expect(files.writerOf(workspaceAt(root, 'ws_other'), 'a.txt', sha('by the editor\n'))).toBeUndefined();
    // A refused write (stale) is never recorded.
    await expect(files.write(workspace, { path: 'a.txt', content: 'stale\n', expected_sha256: sha('nope') }, { actionId: 'act_stale' })).rejects.toMatchObject({ code: 'E_CONFLICT' });
    expect(files.writerOf(workspace, 'a.txt', sha('stale\n'))).toBeUndefined();
  });
});

describe('DocumentBridge attribution', () => {
  it("names the operation's action for its write even when the watcher's anonymous event comes first", async () => {
    const root = tempDir();
    writeFileSync(join(root, 'notes.txt'), 'one\n');
    const workspace = workspaceAt(root);
    // No bus: the file service's own `files.changed` is delivered below, by hand, after the watcher's.
    const files = new FileService(limits);
    const repo = new SyncRepository(openDatabase(join(tempDir(), 'sync.db')));
    const ref: DocRef = { tenantId: 'unit', workspaceId: workspace.id, docKey: 'file:notes.txt' };
    repo.open(ref, 0);
    let seq = 0;
    const room = new SyncRoom(
      'unit/notes',
      [],
      {
        persist: (update, origin) => {
          seq += 1;
          const actionId = origin.kind === 'disk' ? (origin.actionId ?? null) : null;
          repo.append(ref, { seq, at: seq, author: null, action_id: actionId, origin: origin.kind, data: Buffer.from(update) });
          return seq;
        },
        failed: (error) => {
          throw error;
        },
      },
      { maxUpdateBytes: 1 << 20, maxDocumentBytes: 1 << 24 },
    );
    const writeAs = () => Promise.reject(new Error('no human writes in this test'));
    const source = new FileSource(files, workspace, writeAs, 'notes.txt', limits.maxFileBytes);
    const lost: string[] = [];
    const bridge = new DocumentBridge(room, ref, source, repo, createLogger('silent'), { writeDebounceMs: 10, writeMaxDelayMs: 100 }, (reason) => lost.push(reason));
    bridge.start((await source.read()) as SourceText, { baseState: null, baseStamp: null, pendingAuthor: null });

    await files.write(workspace, { path: 'notes.txt', content: 'one\ntwo\n' }, { actionId: 'act_agent' });
    bridge.sourceChanged(undefined); // the watcher's event, first
    bridge.sourceChanged('act_agent'); // the operation's own, late
    await bridge.settle();
    writeFileSync(join(root, 'notes.txt'), 'one\ntwo\nthree\n'); // a command: nobody's action
    bridge.sourceChanged(undefined);
    await bridge.settle();

    expect(room.content).toBe('one\ntwo\nthree\n');
    expect(lost).toEqual([]);
    expect(repo.historyPage(ref, 0, 10).map(({ seq, origin, action_id }) => ({ seq, origin, action_id }))).toEqual([
      { seq: 1, origin: 'disk', action_id: null },
      { seq: 2, origin: 'disk', action_id: 'act_agent' },
      { seq: 3, origin: 'disk', action_id: null },
    ]);
  });
});
