import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus, type BusEvents } from '../../src/core/event-bus.js';
import { FileService } from '../../src/files/file-service.js';
import { WorkspaceFileSystem } from '../../src/refactor/workspace-file-system.js';
import type { Workspace } from '../../src/workspaces/workspace.js';
import { tempDir } from '../helpers/test-server.js';
import { treeSnapshot } from '../helpers/tree-snapshot.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

function workspaceAt(root: string): Workspace {
  return { id: 'ws_unit', tenantId: 'unit', name: 'unit', root, adopted: true, runtime: 'local', status: 'ready', createdBy: 'unit', createdAt: 0 } as Workspace;
}

describe('FileService.applyChangeSet', () => {
  const limits = { maxFileBytes: 1024 * 1024, readPageLines: 500, readPageBytes: 65_536 };

  it('refuses the whole set with E_STALE_PROPOSAL when one file changed since the plan, touching none', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'a.ts'), 'a\n');
    writeFileSync(join(root, 'b.ts'), 'b changed by hand\n');
    const files = new FileService(limits);
    const before = treeSnapshot(root);
    const entries = [
      { path: 'a.ts', base: sha('a\n'), content: Buffer.from('A\n') },
      { path: 'b.ts', base: sha('b\n'), content: Buffer.from('B\n') },
      { path: 'c.ts', base: null, content: Buffer.from('C\n') },
    ];
    await expect(files.applyChangeSet(workspaceAt(root), { entries })).rejects.toMatchObject({ code: 'E_STALE_PROPOSAL', message: 'b.ts changed since the plan was made; nothing was changed' });
    expect(treeSnapshot(root)).toEqual(before);
    // A create where a file appeared meanwhile is stale too.
    writeFileSync(join(root, 'c.ts'), 'someone else\n');
    await expect(files.applyChangeSet(workspaceAt(root), { entries: [{ path: 'c.ts', base: null, content: Buffer.from('C\n') }] })).rejects.toMatchObject({ code: 'E_STALE_PROPOSAL' });
    expect(readFileSync(join(root, 'c.ts'), 'utf8')).toBe('someone else\n');
  });

  it('creates, replaces and deletes as one, announcing every path with the action, moves included', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'old.ts'), 'old\n');
    writeFileSync(join(root, 'keep.ts'), 'keep\n');
    const events = new EventBus();
    const changed: BusEvents['files.changed'][] = [];
    const moved: BusEvents['files.moved'][] = [];
    events.subscribe('files.changed', (event) => changed.push(event));
    events.subscribe('files.moved', (event) => moved.push(event));
    const files = new FileService(limits, events);
    await files.applyChangeSet(
      workspaceAt(root),
      {
        entries: [
          { path: 'old.ts', base: sha('old\n'), content: null },
          { path: 'new/dir/new.ts', base: null, content: Buffer.from('old\n') },
          { path: 'keep.ts', base: sha('keep\n'), content: Buffer.from('kept\n') },
        ],
        moves: [{ from: 'old.ts', to: 'new/dir/new.ts' }],
      },
      { actionId: 'act_1' },
    );
    expect(treeSnapshot(root, (path) => path.endsWith('.cb-bak'))).toMatchObject({ 'new/dir/new.ts': expect.stringContaining(sha('old\n')), 'keep.ts': expect.stringContaining(sha('kept\n')) });
    expect(treeSnapshot(root)['old.ts']).toBeUndefined();
    expect(changed).toEqual([
      {
        tenantId: 'unit',
        workspaceId: 'ws_unit',
        origin: 'operation',
        actionId: 'act_1',
        changes: [
          { path: 'old.ts', kind: 'deleted' },
          { path: 'new/dir/new.ts', kind: 'created' },
          { path: 'keep.ts', kind: 'changed' },
        ],
      },
    ]);
    expect(moved).toEqual([{ tenantId: 'unit', workspaceId: 'ws_unit', from: 'old.ts', to: 'new/dir/new.ts', actionId: 'act_1' }]);
  });

  it('does not let a file_write interleave: a write asked during the apply waits for it and lands after', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'a.ts'), 'a\n');
    const events = new EventBus();
    const order: string[] = [];
    events.subscribe('files.changed', (event) => order.push(event.actionId ?? '?'));
    const files = new FileService(limits, events);
    const workspace = workspaceAt(root);
    const apply = files.applyChangeSet(workspace, { entries: [{ path: 'a.ts', base: sha('a\n'), content: Buffer.from('refactored\n') }] }, { actionId: 'apply' });
    const write = files.write(workspace, { path: 'a.ts', content: 'written\n' }, { actionId: 'write' });
    await Promise.all([apply, write]);
    expect(order).toEqual(['apply', 'write']);
    expect(readFileSync(join(root, 'a.ts'), 'utf8')).toBe('written\n');
  });

  it('refuses to write through a symlink that now leads elsewhere than the plan saw', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'real'));
    writeFileSync(join(root, 'real/a.ts'), 'a\n');
    symlinkSync('real', join(root, 'link'));
    const files = new FileService(limits);
    await expect(files.applyChangeSet(workspaceAt(root), { entries: [{ path: 'link/a.ts', base: sha('a\n'), content: Buffer.from('x\n') }] })).rejects.toMatchObject({ code: 'E_STALE_PROPOSAL' });
    expect(readFileSync(join(root, 'real/a.ts'), 'utf8')).toBe('a\n');
  });
});

describe('WorkspaceFileSystem (what the compiler sees)', () => {
  it('shows only the workspace, under /workspace, and nothing a symlink leads to outside it', () => {
    const root = tempDir();
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, 'src/a.ts'), 'export const a = 1;\n');
    symlinkSync('/etc', join(root, 'src/etc'));
    symlinkSync('/etc/hostname', join(root, 'src/hostname.ts'));
    symlinkSync('a.ts', join(root, 'src/inside.ts'));
    const files = new WorkspaceFileSystem(root, 1024 * 1024);
    expect(files.readDirSync('/workspace/src').map((entry) => entry.name).sort()).toEqual(['/workspace/src/a.ts', '/workspace/src/inside.ts']);
    expect(files.readFileSync('/workspace/src/inside.ts')).toBe('export const a = 1;\n');
    expect(files.realpathSync('/workspace/src/inside.ts')).toBe('/workspace/src/a.ts');
    for (const path of ['/workspace/src/hostname.ts', '/workspace/src/etc/passwd', '/etc/passwd', `${root}/src/a.ts`, '/workspace/../etc/passwd']) {
      expect(files.fileExistsSync(path)).toBe(false);
      expect(() => files.readFileSync(path)).toThrow(/ENOENT|outside/);
    }
    expect(files.directoryExistsSync('/workspace/src/etc')).toBe(false);
    expect(() => files.writeFileSync()).toThrow(/read-only/);
  });
});
