import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusEvents } from '../../src/core/event-bus.js';
import type { McpClient } from '../helpers/mcp-clients.js';
import { closeAgentAndApprover, startWithAgentAndApprover } from '../helpers/agent-and-approver.js';
import { tempDir, type TestServer } from '../helpers/test-server.js';
import { treeSnapshot } from '../helpers/tree-snapshot.js';
import { assertAppHealthy, copyTypescriptApp, typeCheck } from '../helpers/typescript-app.js';

const read = (root: string, path: string) => readFileSync(join(root, path), 'utf8');

describe('refactor_rename through MCP', () => {
  let server: TestServer;
  let agent: McpClient;
  let approver: McpClient;

  beforeAll(async () => {
    ({ server, agent, approver } = await startWithAgentAndApprover());
  });
  afterAll(async () => {
    await closeAgentAndApprover({ server, agent, approver });
  });

  async function appWorkspace(name: string): Promise<{ root: string; id: string }> {
    const created = await agent.call('workspace_create', { name });
    const { root, id } = created.structured as { root: string; id: string };
    copyTypescriptApp(root);
    return { root, id };
  }

  it('renames a local used in a shorthand property, with the exact diff; a dry run changes nothing', { timeout: 120_000 }, async () => {
    const { root } = await appWorkspace('shorthand');
    const before = treeSnapshot(root);
    const dry = await agent.call('refactor_rename', { workspace: 'shorthand', path: 'src/cart/cart.ts', line: 35, column: 11, new_name: 'itemCount', dry_run: true });
    expect(dry.isError).toBe(false);
    expect(treeSnapshot(root)).toEqual(before);
    const diff = [
      '--- a/src/cart/cart.ts',
      '+++ b/src/cart/cart.ts',
      '@@ -34,5 +34,5 @@',
      '   snapshot(): { count: number; total: number } {',
      '-    const count = this.count();',
      '+    const itemCount = this.count();',
      '     const total = this.total();',
      '-    return { count, total };',
      '+    return { count: itemCount, total };',
      '   }',
      '',
    ].join('\n');
    expect(dry.structured).toEqual({
      applied: false,
      summary: 'rename count → itemCount: 2 references in 1 file',
      files: [{ path: 'src/cart/cart.ts', change: 'edited', added: 2, removed: 2 }],
      diff,
    });
    expect(dry.text).toBe(`dry run, nothing changed: rename count → itemCount: 2 references in 1 file\nM src/cart/cart.ts (+2 -2)\n${diff.replace(/\n$/, '')}`);

    const applied = await agent.call('refactor_rename', { workspace: 'shorthand', path: 'src/cart/cart.ts', line: 35, column: 11, new_name: 'itemCount' });
    expect(applied.structured).toMatchObject({ applied: true, files: [{ path: 'src/cart/cart.ts', change: 'edited' }] });
    expect(read(root, 'src/cart/cart.ts')).toContain('    return { count: itemCount, total };\n');
    await assertAppHealthy(root);
  });

  it('renames an exported function through its re-export and every importer, and announces the change', { timeout: 120_000 }, async () => {
    const { root, id } = await appWorkspace('reexport');
    const changed: BusEvents['files.changed'][] = [];
    server.app.events.subscribe('files.changed', (event) => event.workspaceId === id && event.origin === 'operation' && changed.push(event));
    const answer = await agent.call('refactor_rename', { workspace: 'reexport', symbol: 'createItem', new_name: 'makeItem' });
    expect(answer.isError).toBe(false);
    expect(answer.structured).toMatchObject({ applied: true, summary: 'rename createItem → makeItem: 7 references in 4 files' });
    const files = (answer.structured!.files as { path: string }[]).map((file) => file.path);
    expect(files).toEqual(['src/cart/cart.ts', 'src/models/index.ts', 'src/models/item.ts', 'test/cart.test.ts']);
    expect(read(root, 'src/models/index.ts')).toBe("export { makeItem } from './item';\nexport type { Item } from './item';\n");
    for (const path of files) expect(read(root, path)).not.toMatch(/\bcreateItem\b/);
    // One event for the whole change, naming the action that made it.
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({ origin: 'operation', actionId: answer.meta!['codebuddy/action_id'] });
    expect(changed[0]!.changes.map((change) => `${change.kind} ${change.path}`)).toEqual(files.map((path) => `changed ${path}`));
    await assertAppHealthy(root);

    // The warm project saw the change: renaming back works from the new name.
    const back = await agent.call('refactor_rename', { workspace: 'reexport', symbol: 'makeItem', new_name: 'createItem' });
    expect(back.structured).toMatchObject({ applied: true, summary: 'rename makeItem → createItem: 7 references in 4 files' });
    expect(server.app.typescriptProjects.isWarm(id)).toBe(true);
  });

  it('refuses a name that collides, naming the collision, and changes nothing', { timeout: 60_000 }, async () => {
    const { root } = await appWorkspace('collide');
    const before = treeSnapshot(root);
    const imported = await agent.call('refactor_rename', { workspace: 'collide', symbol: 'createItem', new_name: 'applyDiscount' });
    expect(imported).toMatchObject({ isError: true, code: 'E_CONFLICT' });
    expect(imported.text).toBe('E_CONFLICT: applyDiscount is already declared where the symbol is used: src/cart/cart.ts:3:10; nothing was changed');
    const member = await agent.call('refactor_rename', { workspace: 'collide', symbol: 'Cart.count', new_name: 'total' });
    expect(member.text).toBe('E_CONFLICT: total is already a member there: src/cart/cart.ts:19:3; nothing was changed');
    const local = await agent.call('refactor_rename', { workspace: 'collide', path: 'src/cart/cart.ts', line: 35, column: 11, new_name: 'total' });
    expect(local).toMatchObject({ isError: true, code: 'E_CONFLICT' });
    expect(await agent.call('refactor_rename', { workspace: 'collide', symbol: 'createItem', new_name: 'class' })).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect(await agent.call('refactor_rename', { workspace: 'collide', symbol: 'nothingLikeThis', new_name: 'x' })).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
    expect(treeSnapshot(root)).toEqual(before);
  });

  it('renames a function used in 50 files, and the project still type-checks', { timeout: 120_000 }, async () => {
    const created = await agent.call('workspace_create', { name: 'fifty' });
    const root = (created.structured as { root: string }).root;
    writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'ESNext', moduleResolution: 'Bundler', target: 'ES2022', types: [] }, include: ['src'] }));
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, 'src/shared.ts'), 'export function shout(text: string): string {\n  return text.toUpperCase();\n}\n');
    for (let i = 0; i < 50; i++) {
      writeFileSync(join(root, `src/user-${i}.ts`), `import { shout } from './shared';\n\nexport const greeting${i} = shout('hello ${i}');\nexport const farewell${i} = () => shout('bye');\n`);
    }
    const answer = await agent.call('refactor_rename', { workspace: 'fifty', symbol: 'shout', new_name: 'loud' });
    expect(answer.structured).toMatchObject({ applied: true, summary: 'rename shout → loud: 151 references in 51 files' });
    expect((answer.structured!.files as unknown[]).length).toBe(51);
    // The answer is paged: the text ends with the cut marker, not with 51 files of diff.
    expect(answer.text.length).toBeLessThan(12_000);
    expect(answer.text).toContain('…[diff cut; the files are written: read them for the rest]');
    expect(read(root, 'src/user-49.ts')).toBe("import { loud } from './shared';\n\nexport const greeting49 = loud('hello 49');\nexport const farewell49 = () => loud('bye');\n");
    await typeCheck(root);

    // A dry run pages with a cursor.
    const first = await agent.call('refactor_rename', { workspace: 'fifty', symbol: 'loud', new_name: 'shout', dry_run: true });
    const cursor = first.structured!.next_cursor as string;
    expect(cursor).toEqual(expect.any(String));
    const second = await agent.call('refactor_rename', { workspace: 'fifty', symbol: 'loud', new_name: 'shout', dry_run: true, cursor });
    expect(second.isError).toBe(false);
    expect(second.structured!.diff).not.toBe(first.structured!.diff);
    expect(read(root, 'src/shared.ts')).toContain('function loud');
  });

  it('leaves every file as it was when the apply fails midway (a bind-mounted file refuses the swap)', { timeout: 120_000 }, async (context) => {
    // A real failure, no test hook: a file that is a mount point cannot be linked or
    // renamed over (EXDEV/EBUSY), and it is the last file of the plan, so the others
    // were already swapped when it fails. Needs root to bind-mount.
    if (process.getuid?.() !== 0) {
      console.log('skipped: bind mounts need root');
      context.skip();
    }
    const { root } = await appWorkspace('failing');
    const mounted = join(root, 'test/pricing.test.ts');
    const copy = join(tempDir('bind-'), 'pricing.test.ts');
    writeFileSync(copy, readFileSync(mounted));
    execFileSync('mount', ['--bind', copy, mounted]);
    try {
      const before = treeSnapshot(root);
      const answer = await agent.call('refactor_rename', { workspace: 'failing', symbol: 'formatCents', new_name: 'formatMoney' });
      expect(answer).toMatchObject({ isError: true, code: 'E_CONFLICT' });
      expect(answer.text).toContain('test/pricing.test.ts is on another file system');
      // Every file as it was, and no temporary or backup left behind.
      expect(treeSnapshot(root)).toEqual(before);
    } finally {
      execFileSync('umount', [mounted]);
    }
    await assertAppHealthy(root);
  });

  it('is held under review-writes with its diff as the preview, applied on approval, refused when stale', { timeout: 120_000 }, async () => {
    const { root } = await appWorkspace('reviewed');
    expect((await approver.call('policy_set', { workspace: 'reviewed', preset: 'review-writes' })).isError).toBe(false);
    const held = await agent.call('refactor_rename', { workspace: 'reviewed', symbol: 'applyDiscount', new_name: 'reduceBy' });
    expect(held.structured).toMatchObject({ status: 'pending_approval' });
    expect(held.structured!.preview).toContain('rename applyDiscount → reduceBy: 7 references in 4 files\n--- a/src/cart/cart.ts\n+++ b/src/cart/cart.ts\n');
    expect(read(root, 'src/pricing/discount.ts')).toContain('export function applyDiscount(');
    // A dry run is a read: never held.
    expect((await agent.call('refactor_rename', { workspace: 'reviewed', symbol: 'applyDiscount', new_name: 'reduceBy', dry_run: true })).structured).toMatchObject({ applied: false });

    const approved = await approver.call('action_approve', { id: held.structured!.action_id });
    expect(approved.structured).toMatchObject({ status: 'applied', result: { applied: true } });
    expect(read(root, 'src/pricing/discount.ts')).toContain('export function reduceBy(');
    await assertAppHealthy(root);

    const stale = await agent.call('refactor_rename', { workspace: 'reviewed', symbol: 'reduceBy', new_name: 'applyDiscount' });
    writeFileSync(join(root, 'src/report.ts'), `${read(root, 'src/report.ts')}// touched by hand\n`);
    const refused = await approver.call('action_approve', { id: stale.structured!.action_id });
    expect(refused.structured).toMatchObject({ status: 'failed', error: { code: 'E_STALE_PROPOSAL' } });
    expect(read(root, 'src/pricing/discount.ts')).toContain('export function reduceBy(');
  });

  it('lets a deny rule on one file refuse the whole refactor', { timeout: 60_000 }, async () => {
    const { root } = await appWorkspace('denied');
    expect((await approver.call('policy_set', { workspace: 'denied', preset: 'trusted', rules: [{ paths: ['test/**'], decision: 'deny' }] })).isError).toBe(false);
    const before = treeSnapshot(root);
    const refused = await agent.call('refactor_rename', { workspace: 'denied', symbol: 'formatCents', new_name: 'formatMoney' });
    expect(refused).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
    expect(treeSnapshot(root)).toEqual(before);
    // A rename that touches no denied file goes through (the local `subtotal` in Cart.total).
    const allowed = await agent.call('refactor_rename', { workspace: 'denied', path: 'src/cart/cart.ts', line: 20, column: 9, new_name: 'gross' });
    expect(allowed.structured).toMatchObject({ applied: true, summary: 'rename subtotal → gross: 3 references in 1 file' });
  });

  it('never reads or writes through a symlink leading out of the workspace', { timeout: 60_000 }, async () => {
    const { root } = await appWorkspace('links');
    const outside = tempDir('outside-');
    const secret = 'export function formatCents(cents: number): string {\n  return String(cents);\n}\nexport const stolen = formatCents(1);\n';
    writeFileSync(join(outside, 'money.ts'), secret);
    symlinkSync(join(outside, 'money.ts'), join(root, 'src/linked-money.ts'));
    symlinkSync('/etc', join(root, 'src/etc'));
    writeFileSync(join(root, 'src/uses-link.ts'), "import { formatCents } from './linked-money';\nexport const shown = formatCents(5);\n");
    const answer = await agent.call('refactor_rename', { workspace: 'links', symbol: 'formatCents', new_name: 'formatMoney', dry_run: true });
    expect(answer.isError).toBe(false);
    const paths = (answer.structured!.files as { path: string }[]).map((file) => file.path);
    expect(paths).toEqual(['src/cart/cart.ts', 'src/index.ts', 'src/pricing/money.ts', 'src/report.ts', 'test/pricing.test.ts']);
    const applied = await agent.call('refactor_rename', { workspace: 'links', symbol: 'formatCents', new_name: 'formatMoney' });
    expect(applied.structured).toMatchObject({ applied: true });
    expect(readFileSync(join(outside, 'money.ts'), 'utf8')).toBe(secret);
    expect(read(root, 'src/uses-link.ts')).toContain('formatCents');
    const named = await agent.call('refactor_rename', { workspace: 'links', path: 'src/etc/hostname', line: 1, column: 1, new_name: 'x' });
    expect(named).toMatchObject({ isError: true, code: 'E_PATH_OUTSIDE_WORKSPACE' });
  });
});
