import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { treeSnapshot } from '../helpers/tree-snapshot.js';
import { assertAppHealthy, copyTypescriptApp } from '../helpers/typescript-app.js';

const read = (root: string, path: string) => readFileSync(join(root, path), 'utf8');

describe('refactor_extract, refactor_organize_imports and refactor_signature through MCP', () => {
  let server: TestServer;
  let agent: McpClient;
  let root: string;

  beforeAll(async () => {
    server = await startTestServer();
    agent = await connectModernHttp(server.url, server.token('acme'));
    root = ((await agent.call('workspace_create', { name: 'transforms' })).structured as { root: string }).root;
    copyTypescriptApp(root);
  });
  afterAll(async () => {
    await agent?.close();
    await server?.close();
  });

  it('extracts statements inside a class method into a private method, with the exact diff', { timeout: 120_000 }, async () => {
    const range = { start: { line: 20, column: 5 }, end: { line: 23, column: 6 } };
    const taken = await agent.call('refactor_extract', { path: 'src/cart/cart.ts', range, kind: 'function', name: 'count' });
    expect(taken.text).toBe('E_CONFLICT: count is already a member of that class: src/cart/cart.ts:15:3; nothing was changed');
    const answer = await agent.call('refactor_extract', { path: 'src/cart/cart.ts', range, kind: 'function', name: 'subtotalOf' });
    expect(answer.structured).toMatchObject({ applied: true, summary: 'extract function subtotalOf from src/cart/cart.ts:20' });
    expect(answer.structured!.diff).toBe(
      [
        '--- a/src/cart/cart.ts',
        '+++ b/src/cart/cart.ts',
        '@@ -19,2 +19,8 @@',
        '   total(): number {',
        '+    let subtotal = this.subtotalOf();',
        '+    const discounted = applyDiscount(subtotal, this.discountPercent);',
        '+    return discounted;',
        '+  }',
        '+',
        '+  private subtotalOf() {',
        '     let subtotal = 0;',
        '@@ -23,4 +29,3 @@',
        '     }',
        '-    const discounted = applyDiscount(subtotal, this.discountPercent);',
        '-    return discounted;',
        '+    return subtotal;',
        '   }',
        '',
      ].join('\n'),
    );
    await assertAppHealthy(root);
  });

  it('extracts an expression into a constant and into a variable', { timeout: 120_000 }, async () => {
    // In the extracted method now.
    const line = read(root, 'src/cart/cart.ts').split('\n').indexOf('      subtotal += item.priceCents * item.quantity;') + 1;
    expect(line).toBe(28);
    const range = { start: { line, column: 19 }, end: { line, column: 50 } };
    const constant = await agent.call('refactor_extract', { path: 'src/cart/cart.ts', range, kind: 'constant', name: 'lineTotal', dry_run: true });
    expect(constant.structured!.diff).toContain('-      subtotal += item.priceCents * item.quantity;\n+      const lineTotal = item.priceCents * item.quantity;\n+      subtotal += lineTotal;\n');
    const variable = await agent.call('refactor_extract', { path: 'src/cart/cart.ts', range, kind: 'variable', name: 'lineTotal' });
    expect(variable.structured!.diff).toContain('+      let lineTotal = item.priceCents * item.quantity;\n+      subtotal += lineTotal;\n');
    await assertAppHealthy(root);
    const nonsense = await agent.call('refactor_extract', { path: 'src/cart/cart.ts', range: { start: { line: 1, column: 1 }, end: { line: 1, column: 4 } }, kind: 'constant', name: 'x' });
    expect(nonsense).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
  });

  it('organizes imports over a glob: unused removed, the rest sorted; a second run changes nothing', { timeout: 120_000 }, async () => {
    const answer = await agent.call('refactor_organize_imports', { path: 'src/**/*.ts' });
    expect(answer.structured).toMatchObject({ applied: true, summary: 'organize imports: 1 of 7 files changed', files: [{ path: 'src/report.ts', change: 'edited', added: 1, removed: 3 }] });
    expect(read(root, 'src/report.ts').split('\n').slice(0, 3)).toEqual(["import { Cart } from './cart/cart';", "import { formatCents } from './pricing/money';", '']);
    await assertAppHealthy(root);
    const before = treeSnapshot(root);
    const again = await agent.call('refactor_organize_imports', { path: 'src/report.ts' });
    expect(again.structured).toMatchObject({ applied: false, summary: 'organize imports: 0 of 1 file changed', files: [] });
    expect(again.text).toBe('nothing to change: organize imports: 0 of 1 file changed');
    expect(treeSnapshot(root)).toEqual(before);
  });

  it('adds, reorders and removes a parameter, updating every call site', { timeout: 180_000 }, async () => {
    const added = await agent.call('refactor_signature', { symbol: 'applyDiscount', change: { action: 'add', name: 'floorCents', type: 'number', value: '0' } });
    expect(added.structured).toMatchObject({ applied: true, summary: 'signature of applyDiscount: add parameter floorCents; 3 call sites updated' });
    expect(read(root, 'src/pricing/discount.ts')).toContain('export function applyDiscount(cents: number, percent: number, floorCents: number): number {');
    expect(read(root, 'src/cart/cart.ts')).toContain('applyDiscount(subtotal, this.discountPercent, 0)');
    expect(read(root, 'test/pricing.test.ts')).toContain('assert.equal(applyDiscount(999, 15, 0), 849);');
    await assertAppHealthy(root);

    const reordered = await agent.call('refactor_signature', { symbol: 'applyDiscount', change: { action: 'reorder', order: ['percent', 'cents', 'floorCents'] } });
    expect(reordered.structured).toMatchObject({ applied: true });
    expect(read(root, 'src/pricing/discount.ts')).toContain('export function applyDiscount(percent: number, cents: number, floorCents: number): number {');
    expect(read(root, 'test/pricing.test.ts')).toContain('assert.throws(() => applyDiscount(120, 100, 0), /out of range/);');
    await assertAppHealthy(root);

    const used = await agent.call('refactor_signature', { symbol: 'applyDiscount', change: { action: 'remove', name: 'percent' } });
    expect(used).toMatchObject({ isError: true, code: 'E_CONFLICT' });
    expect(used.text).toBe('E_CONFLICT: parameter percent is still used at src/pricing/discount.ts:2:7; remove that use first');
    const removed = await agent.call('refactor_signature', { symbol: 'applyDiscount', change: { action: 'remove', name: 'floorCents' } });
    expect(removed.structured).toMatchObject({ applied: true, summary: 'signature of applyDiscount: remove parameter floorCents; 3 call sites updated' });
    expect(read(root, 'src/cart/cart.ts')).toContain('applyDiscount(this.discountPercent, subtotal)');
    await assertAppHealthy(root);
  });
});
