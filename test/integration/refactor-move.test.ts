import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusEvents } from '../../src/core/event-bus.js';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { treeSnapshot } from '../helpers/tree-snapshot.js';
import { assertAppHealthy, copyTypescriptApp } from '../helpers/typescript-app.js';

const read = (root: string, path: string) => readFileSync(join(root, path), 'utf8');

describe('refactor_move through MCP', () => {
  let server: TestServer;
  let agent: McpClient;
  let root: string;
  let workspaceId: string;

  beforeAll(async () => {
    server = await startTestServer();
    agent = await connectModernHttp(server.url, server.token('acme'));
    const created = (await agent.call('workspace_create', { name: 'moves' })).structured as { root: string; id: string };
    root = created.root;
    workspaceId = created.id;
    copyTypescriptApp(root);
    writeFileSync(join(root, 'src/pricing/rates.json'), '{"vat": 20}\n');
  });
  afterAll(async () => {
    await agent?.close();
    await server?.close();
  });

  it('moves a file and rewrites relative and paths-alias imports of it', { timeout: 120_000 }, async () => {
    const moved: BusEvents['files.moved'][] = [];
    server.app.events.subscribe('files.moved', (event) => event.workspaceId === workspaceId && moved.push(event));
    const answer = await agent.call('refactor_move', { from: 'src/pricing/money.ts', to: 'src/format/money-format.ts' });
    expect(answer.structured).toMatchObject({
      applied: true,
      summary: 'move src/pricing/money.ts → src/format/money-format.ts: 4 importing files updated',
      files: [
        { path: 'src/cart/cart.ts', change: 'edited', added: 1, removed: 1 },
        { path: 'src/index.ts', change: 'edited', added: 1, removed: 1 },
        { path: 'src/format/money-format.ts', change: 'moved', from: 'src/pricing/money.ts', added: 0, removed: 0 },
        { path: 'src/report.ts', change: 'edited', added: 1, removed: 1 },
        { path: 'test/pricing.test.ts', change: 'edited', added: 1, removed: 1 },
      ],
    });
    expect(answer.structured!.diff).toContain("-import { formatCents } from '@app/pricing/money';\n+import { formatCents } from '@app/format/money-format';\n");
    expect(answer.structured!.diff).toContain("-export { formatCents } from './pricing/money';\n+export { formatCents } from './format/money-format';\n");
    expect(existsSync(join(root, 'src/pricing/money.ts'))).toBe(false);
    expect(read(root, 'test/pricing.test.ts')).toContain("import { formatCents } from '@app/format/money-format';\n");
    expect(moved).toEqual([expect.objectContaining({ from: 'src/pricing/money.ts', to: 'src/format/money-format.ts', actionId: answer.meta!['codebuddy/action_id'] })]);
    await assertAppHealthy(root);
  });

  it("moves a file deeper and rewrites the file's own relative imports", { timeout: 120_000 }, async () => {
    const answer = await agent.call('refactor_move', { from: 'src/cart/cart.ts', to: 'src/shop/basket/cart.ts' });
    expect(answer.text).toMatch(/^applied: move src\/cart\/cart.ts → src\/shop\/basket\/cart.ts/);
    const moved = read(root, 'src/shop/basket/cart.ts');
    expect(moved).toContain("import { createItem, type Item } from '../../models';\n");
    expect(moved).toContain("import { applyDiscount } from '../../pricing/discount';\n");
    expect(read(root, 'src/index.ts')).toContain("export { Cart } from './shop/basket/cart';\n");
    // Like mv and file_move, a file's move leaves its directory, even empty.
    expect(existsSync(join(root, 'src/cart/cart.ts'))).toBe(false);
    await assertAppHealthy(root);
  });

  it('moves a directory with a non-source file in it, and leaves nothing behind', { timeout: 120_000 }, async () => {
    const answer = await agent.call('refactor_move', { from: 'src/pricing', to: 'src/billing/pricing' });
    expect(answer.structured).toMatchObject({ applied: true, summary: 'move src/pricing → src/billing/pricing: 3 importing files updated' });
    expect((answer.structured!.files as { path: string; change: string }[]).filter((file) => file.change === 'moved').map((file) => file.path)).toEqual([
      'src/billing/pricing/discount.ts',
      'src/billing/pricing/rates.json',
    ]);
    expect(read(root, 'src/billing/pricing/rates.json')).toBe('{"vat": 20}\n');
    expect(read(root, 'test/pricing.test.ts')).toContain("import { applyDiscount } from '@app/billing/pricing/discount';\n");
    expect(existsSync(join(root, 'src/pricing'))).toBe(false);
    await assertAppHealthy(root);
  });

  it('refuses a move onto an existing path or out of the workspace, changing nothing', { timeout: 60_000 }, async () => {
    const before = treeSnapshot(root);
    expect(await agent.call('refactor_move', { from: 'src/report.ts', to: 'src/index.ts' })).toMatchObject({ isError: true, code: 'E_CONFLICT' });
    expect(await agent.call('refactor_move', { from: 'src/report.ts', to: '../report.ts' })).toMatchObject({ isError: true, code: 'E_PATH_OUTSIDE_WORKSPACE' });
    expect(await agent.call('refactor_move', { from: 'src/nothing.ts', to: 'src/x.ts' })).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
    expect(treeSnapshot(root)).toEqual(before);
  });
});
