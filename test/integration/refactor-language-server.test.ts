import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFixture } from '../helpers/fixtures.js';
import type { McpClient } from '../helpers/mcp-clients.js';
import { closeAgentAndApprover, startWithAgentAndApprover } from '../helpers/agent-and-approver.js';
import type { TestServer } from '../helpers/test-server.js';
import { treeSnapshot } from '../helpers/tree-snapshot.js';

/*
 * refactor_rename on files no TypeScript project covers: planned by the workspace's language
 * server (pyright, in the sandbox locally, through `docker exec` in a Docker workspace) and
 * applied as the same edit plan the TypeScript engine makes, over MCP on the Python fixture.
 */

const IMAGE = 'codebuddy-workspace:latest';
const engineReady = spawnSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' }).status === 0;
if (!engineReady && !process.env.CI) console.warn(`no Docker engine with ${IMAGE} here: the Docker rename tests are not run (see .ci/run)`);

const runtimes = [{ runtime: 'local' as const, run: true }, { runtime: 'docker' as const, run: engineReady || Boolean(process.env.CI) }];

const ADD_ITEM_DIFF = [
  '--- a/main.py',
  '+++ b/main.py',
  '@@ -3,3 +3,3 @@',
  ' cart = Cart()',
  '-cart.add_item("pen", 150)',
  '+cart.add_product("pen", 150)',
  ' print(cart.total())',
  '--- a/shop/cart.py',
  '+++ b/shop/cart.py',
  '@@ -7,3 +7,3 @@',
  ' ',
  '-    def add_item(self, name: str, cents: int) -> None:',
  '+    def add_product(self, name: str, cents: int) -> None:',
  '         """Adds one item."""',
  '',
].join('\n');

describe.each(runtimes)('refactor_rename through the language server on the $runtime runtime', ({ runtime, run }) => {
  let server: TestServer;
  let agent: McpClient;
  let approver: McpClient;
  const names: string[] = [];

  beforeAll(async () => {
    if (!run) return;
    ({ server, agent, approver } = await startWithAgentAndApprover({ codeRequestTimeoutSeconds: 60, codeReadyTimeoutSeconds: 90 }));
  }, 120_000);

  afterAll(async () => {
    if (!run) return;
    for (const name of names) await agent?.call('workspace_delete', { workspace: name }).catch(() => undefined);
    await closeAgentAndApprover({ server, agent, approver });
  }, 120_000);

  async function pythonWorkspace(name: string): Promise<string> {
    const workspace = `${name}-${runtime}`;
    const created = await agent.call('workspace_create', { name: workspace, ...(runtime === 'docker' ? { runtime: 'docker' } : {}) });
    expect(created.isError, created.text).toBe(false);
    names.push(workspace);
    await copyFixture(agent, 'python', workspace);
    return workspace;
  }

  const rootOf = async (workspace: string) => ((await agent.call('workspace_get', { workspace })).structured as { root: string }).root;
  const content = async (workspace: string, path: string) => (await agent.call('file_read', { workspace, path })).structured!.content;

  it.runIf(run)('renames a method in two files with the exact diff; a dry run changes nothing; code_references sees the new name', { timeout: 240_000 }, async () => {
    const workspace = await pythonWorkspace('py-rename');
    const root = await rootOf(workspace);
    const before = treeSnapshot(root);

    // By name path alone: no TypeScript project declares it, so the language server resolves it.
    const dry = await agent.call('refactor_rename', { workspace, symbol: 'Cart.add_item', new_name: 'add_product', dry_run: true });
    expect(dry.isError, dry.text).toBe(false);
    const summary = 'rename add_item → add_product: 2 references in 2 files (python language server)';
    expect(dry.structured).toEqual({
      applied: false,
      summary,
      files: [
        { path: 'main.py', change: 'edited', added: 1, removed: 1 },
        { path: 'shop/cart.py', change: 'edited', added: 1, removed: 1 },
      ],
      diff: ADD_ITEM_DIFF,
    });
    expect(dry.text).toBe(`dry run, nothing changed: ${summary}\nM main.py (+1 -1)\nM shop/cart.py (+1 -1)\n${ADD_ITEM_DIFF.replace(/\n$/, '')}`);
    expect(treeSnapshot(root)).toEqual(before);

    // By position, the call site: the same plan, applied.
    const applied = await agent.call('refactor_rename', { workspace, path: 'main.py', line: 4, column: 6, new_name: 'add_product' });
    expect(applied.isError, applied.text).toBe(false);
    expect(applied.structured).toEqual({ applied: true, summary, files: (dry.structured as { files: unknown }).files, diff: ADD_ITEM_DIFF });
    expect(await content(workspace, 'main.py')).toBe('from shop.cart import Cart\n\ncart = Cart()\ncart.add_product("pen", 150)\nprint(cart.total())');
    expect(await content(workspace, 'shop/cart.py')).toContain('    def add_product(self, name: str, cents: int) -> None:');

    // The pool heard of the change on the bus: the server answers from the new text.
    const references = await agent.call('code_references', { workspace, symbol: 'Cart.add_product' });
    expect(references.text).toBe(['main.py:4:6  cart.add_product("pen", 150)', 'shop/cart.py:8:9  def add_product(self, name: str, cents: int) -> None:'].join('\n'));
    expect((await agent.call('code_diagnostics', { workspace })).text).toBe('4 files checked: no problems');
  });

  it.runIf(run)('renames an imported function across its import and its uses', { timeout: 240_000 }, async () => {
    const workspace = await pythonWorkspace('py-import');
    const answer = await agent.call('refactor_rename', { workspace, path: 'shop/pricing.py', line: 1, column: 5, new_name: 'as_dollars' });
    expect(answer.isError, answer.text).toBe(false);
    expect(answer.structured).toMatchObject({
      applied: true,
      summary: 'rename format_price → as_dollars: 3 references in 2 files (python language server)',
      files: [
        { path: 'shop/cart.py', change: 'edited', added: 2, removed: 2 },
        { path: 'shop/pricing.py', change: 'edited', added: 1, removed: 1 },
      ],
    });
    expect(await content(workspace, 'shop/cart.py')).toBe(
      [
        'from shop.pricing import as_dollars',
        '',
        '',
        'class Cart:',
        '    def __init__(self) -> None:',
        '        self.items: list[tuple[str, int]] = []',
        '',
        '    def add_item(self, name: str, cents: int) -> None:',
        '        """Adds one item."""',
        '        self.items.append((name, cents))',
        '',
        '    def total(self) -> str:',
        '        return as_dollars(sum(cents for _, cents in self.items))',
      ].join('\n'),
    );
    expect((await agent.call('code_diagnostics', { workspace })).text).toBe('4 files checked: no problems');
  });

  it.runIf(run)('refuses what cannot be renamed, clearly, and changes nothing', { timeout: 240_000 }, async () => {
    const workspace = await pythonWorkspace('py-refuse');
    const root = await rootOf(workspace);
    const before = treeSnapshot(root);
    // A builtin: pyright will not rename what lives outside the workspace.
    const builtin = await agent.call('refactor_rename', { workspace, path: 'main.py', line: 5, column: 1, new_name: 'show' });
    expect(builtin).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect(builtin.text).toBe('E_INVALID_ARGUMENT: cannot rename at main.py:5:1: the python server says there is nothing it can rename there');
    // A keyword.
    const keyword = await agent.call('refactor_rename', { workspace, path: 'main.py', line: 1, column: 1, new_name: 'since' });
    expect(keyword.text).toBe('E_INVALID_ARGUMENT: cannot rename at main.py:1:1: the python server says there is nothing it can rename there');
    // A new name Python would not parse.
    const reserved = await agent.call('refactor_rename', { workspace, path: 'main.py', line: 4, column: 6, new_name: 'lambda' });
    expect(reserved.text).toBe('E_INVALID_ARGUMENT: "lambda" is not a valid python identifier');
    expect((await agent.call('refactor_rename', { workspace, path: 'main.py', line: 4, column: 6, new_name: 'add$item' })).code).toBe('E_INVALID_ARGUMENT');
    expect((await agent.call('refactor_rename', { workspace, symbol: 'Cart.nothing_like_this', new_name: 'x' })).code).toBe('E_NOT_FOUND');
    // A name already taken where the rename would write it: a member of the class, a class at module level.
    const member = await agent.call('refactor_rename', { workspace, symbol: 'Cart.add_item', new_name: 'total' });
    expect(member).toMatchObject({ isError: true, code: 'E_CONFLICT' });
    expect(member.text).toBe('E_CONFLICT: total is already declared where the symbol is used: shop/cart.py:12:9; nothing was changed');
    const imported = await agent.call('refactor_rename', { workspace, path: 'shop/pricing.py', line: 1, column: 5, new_name: 'Cart' });
    expect(imported.text).toBe('E_CONFLICT: Cart is already declared where the symbol is used: shop/cart.py:4:7; nothing was changed');
    expect(treeSnapshot(root)).toEqual(before);
  });

  it.runIf(run)('is held under review-writes with the diff as its preview, applied on approval, refused when stale', { timeout: 240_000 }, async () => {
    const workspace = await pythonWorkspace('py-review');
    expect((await approver.call('policy_set', { workspace, preset: 'review-writes' })).isError).toBe(false);
    const held = await agent.call('refactor_rename', { workspace, symbol: 'Cart.add_item', new_name: 'add_product' });
    expect(held.structured, held.text).toMatchObject({ status: 'pending_approval' });
    expect(held.structured!.preview).toBe(
      [
        'rename add_item → add_product: 2 references in 2 files (python language server)',
        '--- a/main.py',
        '+++ b/main.py',
        '@@ -1,5 +1,5 @@',
        ' from shop.cart import Cart',
        ' ',
        ' cart = Cart()',
        '-cart.add_item("pen", 150)',
        '+cart.add_product("pen", 150)',
        ' print(cart.total())',
        '--- a/shop/cart.py',
        '+++ b/shop/cart.py',
        '@@ -5,7 +5,7 @@',
        '     def __init__(self) -> None:',
        '         self.items: list[tuple[str, int]] = []',
        ' ',
        '-    def add_item(self, name: str, cents: int) -> None:',
        '+    def add_product(self, name: str, cents: int) -> None:',
        '         """Adds one item."""',
        '         self.items.append((name, cents))',
        ' ',
        '',
      ].join('\n'),
    );
    expect(await content(workspace, 'main.py')).toContain('cart.add_item(');
    const approved = await approver.call('action_approve', { id: held.structured!.action_id });
    expect(approved.structured).toMatchObject({ status: 'applied', result: { applied: true } });
    expect(await content(workspace, 'main.py')).toContain('cart.add_product(');

    const stale = await agent.call('refactor_rename', { workspace, symbol: 'Cart.add_product', new_name: 'add_item' });
    expect(stale.structured).toMatchObject({ status: 'pending_approval' });
    await approver.call('policy_set', { workspace, preset: 'trusted' });
    expect((await agent.call('file_edit', { workspace, path: 'main.py', edits: [{ old: 'print(', new: 'print("total", ' }] })).isError).toBe(false);
    const refused = await approver.call('action_approve', { id: stale.structured!.action_id });
    expect(refused.structured).toMatchObject({ status: 'failed', error: { code: 'E_STALE_PROPOSAL' } });
    expect(await content(workspace, 'shop/cart.py')).toContain('    def add_product(');
  });
});
