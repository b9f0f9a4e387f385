import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusEvents, FileChange } from '../../src/core/event-bus.js';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/test-server.js';

type Changed = BusEvents['files.changed'];

/** Collects `files.changed` events and waits for one that satisfies a condition. */
function changeLog(server: TestServer, workspaceId: string) {
  const seen: Changed[] = [];
  const waiters: Array<{ test: (event: Changed) => boolean; resolve: (event: Changed) => void }> = [];
  server.app.events.subscribe('files.changed', (event) => {
    if (event.workspaceId !== workspaceId) return;
    seen.push(event);
    for (const waiter of [...waiters]) {
      if (waiter.test(event)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  });
  return {
    seen,
    next(test: (event: Changed) => boolean, timeoutMs = 15_000): Promise<Changed> {
      const already = seen.find(test);
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching files.changed event in ${timeoutMs} ms; saw ${JSON.stringify(seen)}`)), timeoutMs);
        waiters.push({ test, resolve: (event) => (clearTimeout(timer), resolve(event)) });
      });
    },
  };
}

const has = (path: string, kind?: FileChange['kind']) => (event: Changed) => event.changes.some((change) => change.path === path && (kind === undefined || change.kind === kind));

describe('file changes on the event bus', () => {
  let server: TestServer;
  let client: McpClient;
  let workspaceId: string;
  let root: string;

  beforeAll(async () => {
    server = await startTestServer({ localSandbox: 'off', allowUnsandboxed: true });
    client = await connectModernHttp(server.url, server.token('acme'));
    const created = await client.call('workspace_create', { name: 'events' });
    workspaceId = (created.structured as { id: string }).id;
    root = (created.structured as { root: string }).root;
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
  });

  it('file tools announce each change at once, naming the action that made it', async () => {
    const log = changeLog(server, workspaceId);
    const moves: BusEvents['files.moved'][] = [];
    server.app.events.subscribe('files.moved', (event) => moves.push(event));

    const written = await client.call('file_write', { path: 'src/a.ts', content: 'export const a = 1;\n' });
    // Published before the call returned: no waiting.
    const write = log.seen.find(has('src/a.ts', 'created'));
    expect(write).toMatchObject({ tenantId: 'acme', origin: 'operation', actionId: written.meta?.['codebuddy/action_id'] });

    await client.call('file_edit', { path: 'src/a.ts', edits: [{ old: '1', new: '2' }] });
    expect(log.seen.some((event) => event.origin === 'operation' && has('src/a.ts', 'changed')(event))).toBe(true);

    const moved = await client.call('file_move', { from: 'src/a.ts', to: 'src/b.ts' });
    expect(moves).toEqual([{ tenantId: 'acme', workspaceId, from: 'src/a.ts', to: 'src/b.ts', actionId: moved.meta?.['codebuddy/action_id'] }]);
    expect(log.seen.some((event) => event.origin === 'operation' && has('src/a.ts', 'deleted')(event) && has('src/b.ts', 'created')(event))).toBe(true);

    await client.call('file_delete', { path: 'src/b.ts' });
    expect(log.seen.some((event) => event.origin === 'operation' && has('src/b.ts', 'deleted')(event))).toBe(true);

    // A refused change announces nothing.
    const before = log.seen.length;
    const refused = await client.call('file_edit', { path: 'missing.ts', edits: [{ old: 'x', new: 'y' }] });
    expect(refused.code).toBe('E_NOT_FOUND');
    expect(log.seen.length).toBe(before);
  });

  it('the watcher sees changes made behind the tools, debounced into one event, while someone holds it', async () => {
    const workspace = server.app.workspaces.resolve({ tenantId: 'acme', userId: 'user', role: 'agent' }, workspaceId);
    const lease = server.app.watchers.watch(workspace);
    try {
      await lease.ready;
      const log = changeLog(server, workspaceId);
      // As a command would: straight to disk, many files in one burst.
      mkdirSync(join(root, 'gen'));
      for (let i = 0; i < 20; i++) writeFileSync(join(root, 'gen', `f${i}.txt`), `${i}`);
      const event = await log.next(has('gen/f19.txt', 'created'));
      expect(event.origin).toBe('watcher');
      expect(event.actionId).toBeUndefined();
      // Debounced: the burst arrives in few events, not twenty.
      const burst = log.seen.filter((seen) => seen.changes.some((change) => change.path.startsWith('gen/f')));
      expect(burst.length).toBeLessThan(20);
      expect(new Set(burst.flatMap((seen) => seen.changes.map((change) => change.path)))).toContain('gen/f0.txt');

      writeFileSync(join(root, 'gen', 'f0.txt'), 'changed');
      await log.next(has('gen/f0.txt', 'changed'));

      // Heavy trees are not watched.
      mkdirSync(join(root, 'node_modules', 'pkg'), { recursive: true });
      writeFileSync(join(root, 'node_modules', 'pkg', 'index.js'), '1');
      // At any depth, and only a whole segment: `gen/node_modules_x` is an ordinary directory.
      mkdirSync(join(root, 'gen', 'node_modules', 'pkg'), { recursive: true });
      writeFileSync(join(root, 'gen', 'node_modules', 'pkg', 'index.js'), '1');
      mkdirSync(join(root, 'gen', 'node_modules_x'));
      writeFileSync(join(root, 'gen', 'node_modules_x', 'kept.txt'), '1');
      await log.next(has('gen/node_modules_x/kept.txt'));
      writeFileSync(join(root, 'marker.txt'), 'after node_modules');
      await log.next(has('marker.txt'));
      expect(log.seen.some((seen) => seen.changes.some((change) => change.path.startsWith('node_modules/') || change.path.startsWith('gen/node_modules/')))).toBe(false);
      expect(server.app.watchers.state(workspaceId)).toEqual({ watching: true });
    } finally {
      lease.release();
    }
    expect(server.app.watchers.state(workspaceId)).toEqual({ watching: false });
  });

  it('never follows a link out of the workspace, not even a directory swapped for one while watched', async () => {
    const outside = tempDir('codebuddy-outside-');
    const workspace = server.app.workspaces.resolve({ tenantId: 'acme', userId: 'user', role: 'agent' }, workspaceId);
    mkdirSync(join(root, 'swap'));
    writeFileSync(join(root, 'swap', 'inside.txt'), 'x');
    symlinkSync(outside, join(root, 'link-out'));
    const lease = server.app.watchers.watch(workspace);
    try {
      await lease.ready;
      const log = changeLog(server, workspaceId);
      renameSync(join(root, 'swap'), join(root, 'swapped-away'));
      symlinkSync(outside, join(root, 'swap'));
      await log.next(has('swap'));
      writeFileSync(join(outside, 'secret-name.txt'), 'host data');
      writeFileSync(join(root, 'after.txt'), 'a change inside, after the one outside');
      await log.next(has('after.txt'));
      const names = log.seen.flatMap((event) => event.changes.map((change) => change.path));
      expect(names.filter((name) => name.includes('secret-name'))).toEqual([]);
    } finally {
      lease.release();
    }
  });

  it('a deleted workspace announces itself first and its watcher closes', async () => {
    const other = await client.call('workspace_create', { name: 'doomed' });
    const id = (other.structured as { id: string }).id;
    const workspace = server.app.workspaces.resolve({ tenantId: 'acme', userId: 'user', role: 'agent' }, id);
    const lease = server.app.watchers.watch(workspace);
    await lease.ready;
    const deleted: BusEvents['workspace.deleted'][] = [];
    server.app.events.subscribe('workspace.deleted', (event) => deleted.push(event));
    expect((await client.call('workspace_delete', { workspace: id })).isError).toBe(false);
    expect(deleted).toEqual([{ tenantId: 'acme', workspaceId: id }]);
    expect(server.app.watchers.state(id)).toEqual({ watching: false });
    lease.release();
  });
});
