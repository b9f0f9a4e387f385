import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFixture } from '../helpers/fixtures.js';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/*
 * The two Debian language servers CodeBuddy offers besides typescript-language-server and
 * pyright, for real, over MCP, in the local sandbox: pylsp 1.7 (`codePythonServer: 'pylsp'`,
 * diagnostics from pyflakes) on the Python fixture, and gopls (Debian's, with Go 1.19 and
 * GOPROXY=off) on a Go module of two packages. Every code tool, and refactor_rename, which
 * routes files no TypeScript project holds to the file's language server. pylsp also in a
 * Docker workspace (the image has it; gopls and Go are not in the image, so Go is local only).
 */

const IMAGE = 'codebuddy-workspace:latest';
const engineReady = spawnSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' }).status === 0;
if (!engineReady && !process.env.CI) console.warn(`no Docker engine with ${IMAGE} here: pylsp is not tested in a Docker workspace (see .ci/run)`);

const GO_RENAME_DIFF = [
  '--- a/cart/cart.go',
  '+++ b/cart/cart.go',
  '@@ -27,3 +27,3 @@',
  ' \t}',
  '-\treturn pricing.FormatPrice(sum)',
  '+\treturn pricing.AsDollars(sum)',
  ' }',
  '--- a/pricing/pricing.go',
  '+++ b/pricing/pricing.go',
  '@@ -5,4 +5,4 @@',
  ' ',
  '-// FormatPrice shows cents as dollars, e.g. 150 -> $1.50.',
  '-func FormatPrice(cents int) string {',
  '+// AsDollars shows cents as dollars, e.g. 150 -> $1.50.',
  '+func AsDollars(cents int) string {',
  ' \treturn fmt.Sprintf("$%d.%02d", cents/100, cents%100)',
  '',
].join('\n');

describe('pylsp and gopls through the code tools (local runtime)', () => {
  let server: TestServer;
  let agent: McpClient;

  beforeAll(async () => {
    server = await startTestServer({ codePythonServer: 'pylsp', codeRequestTimeoutSeconds: 60, codeReadyTimeoutSeconds: 60 });
    agent = await connectModernHttp(server.url, server.token('acme', 'bot'));
    for (const [name, fixture, runtime] of [['py', 'python', 'local'], ['go', 'go', 'local'], ...(engineReady || process.env.CI ? [['py-docker', 'python', 'docker']] : [])]) {
      const created = await agent.call('workspace_create', { name, runtime });
      expect(created.isError, created.text).toBe(false);
      await copyFixture(agent, fixture!, name!);
    }
  }, 120_000);

  afterAll(async () => {
    await agent?.call('workspace_delete', { workspace: 'py-docker' }).catch(() => undefined);
    await agent?.close();
    await server?.close();
  }, 60_000);

  it('pylsp: definition, references, hover, outline, pyflakes diagnostics', async () => {
    expect((await agent.call('code_definition', { workspace: 'py', path: 'main.py', line: 4, column: 6 })).text).toBe('shop/cart.py:8:9  def add_item(self, name: str, cents: int) -> None:');
    expect((await agent.call('code_definition', { workspace: 'py', path: 'shop/cart.py', line: 13, column: 16 })).text).toBe('shop/pricing.py:1:5  def format_price(cents: int) -> str:');

    // A name path with its file: the outline's flat symbols are placed on their names, not on `def`.
    const references = await agent.call('code_references', { workspace: 'py', symbol: 'Cart.add_item', path: 'shop/cart.py' });
    expect(references.text).toBe(['main.py:4:6  cart.add_item("pen", 150)', 'shop/cart.py:8:9  def add_item(self, name: str, cents: int) -> None:'].join('\n'));
    expect(references.structured).toMatchObject({ from: { path: 'shop/cart.py', line: 8, column: 9 }, total: 2 });
    // Without its file: pylsp has no workspace symbols, and the answer says what to do instead.
    const unplaced = await agent.call('code_references', { workspace: 'py', symbol: 'Cart.add_item' });
    expect(unplaced).toMatchObject({ isError: true, code: 'E_UNSUPPORTED' });
    expect(unplaced.text).toBe('E_UNSUPPORTED: the python language server does not support workspace/symbol, so Cart.add_item cannot be looked up across the workspace: give path (the file declaring it)');

    const hover = await agent.call('code_hover', { workspace: 'py', symbol: 'format_price', path: 'shop/pricing.py' });
    expect(hover.text).toBe('format_price(cents: int) -> str\n\nCents as dollars, e.g. 150 -> $1.50.');

    const outline = await agent.call('code_symbols', { workspace: 'py', path: 'shop/cart.py' });
    // Locals (pylsp lists them, named by their function) are left out, as for every server.
    expect(outline.text).toBe(['shop/cart.py:4:7  class Cart', 'shop/cart.py:5:9  method Cart.__init__', 'shop/cart.py:8:9  method Cart.add_item', 'shop/cart.py:12:9  method Cart.total'].join('\n'));

    expect((await agent.call('code_diagnostics', { workspace: 'py' })).text).toBe('4 files checked: no problems');
    await agent.call('file_write', { workspace: 'py', path: 'shop/bad.py', content: 'import os\n\nprint(undefined_name)\n' });
    expect((await agent.call('code_diagnostics', { workspace: 'py', path: 'shop/bad.py' })).text).toBe("shop/bad.py version 1: 2 problems\nshop/bad.py:1:1  warning: 'os' imported but unused\nshop/bad.py:3:7  error: undefined name 'undefined_name'");
    await agent.call('file_write', { workspace: 'py', path: 'shop/bad.py', content: 'import os\n\nprint(os.sep)\n' });
    expect((await agent.call('code_diagnostics', { workspace: 'py', path: 'shop/bad.py' })).text).toBe('shop/bad.py version 2: no problems');
  }, 120_000);

  it('pylsp: refactor_rename plans through the server and applies the exact edit', async () => {
    const applied = await agent.call('refactor_rename', { workspace: 'py', symbol: 'Cart.add_item', path: 'shop/cart.py', new_name: 'add_product' });
    expect(applied.isError, applied.text).toBe(false);
    expect(applied.structured).toMatchObject({
      applied: true,
      summary: 'rename add_item → add_product: 2 references in 2 files (python language server)',
      files: [
        { path: 'main.py', change: 'edited', added: 1, removed: 1 },
        { path: 'shop/cart.py', change: 'edited', added: 1, removed: 1 },
      ],
    });
    expect((await agent.call('file_read', { workspace: 'py', path: 'shop/cart.py' })).structured!.content).toContain('    def add_product(self, name: str, cents: int) -> None:\n        """Adds one item."""');
    expect((await agent.call('file_read', { workspace: 'py', path: 'main.py' })).structured!.content).toBe('from shop.cart import Cart\n\ncart = Cart()\ncart.add_product("pen", 150)\nprint(cart.total())');
    expect((await agent.call('code_references', { workspace: 'py', symbol: 'Cart.add_product', path: 'shop/cart.py' })).structured).toMatchObject({ total: 2 });
  }, 120_000);

  it("pylsp: a project's own ast.py or json.py does not replace the standard library inside the server", async () => {
    // Before `-I`, `python3 -m pylsp` put the workspace first on sys.path: this project killed it at start.
    expect((await agent.call('workspace_create', { name: 'py-shadow' })).isError).toBe(false);
    await copyFixture(agent, 'python', 'py-shadow');
    for (const module of ['ast', 'json', 'logging']) await agent.call('file_write', { workspace: 'py-shadow', path: `${module}.py`, content: `raise SystemExit("the project's ${module}.py ran inside the server")\n` });
    const definition = await agent.call('code_definition', { workspace: 'py-shadow', path: 'main.py', line: 4, column: 6 });
    expect(definition.text).toBe('shop/cart.py:8:9  def add_item(self, name: str, cents: int) -> None:');
    expect((await agent.call('code_status', { workspace: 'py-shadow' })).structured!.servers).toMatchObject([{ id: 'python', state: 'ready', restarts: 0 }]);
  }, 120_000);

  it.runIf(engineReady || process.env.CI)('pylsp in a Docker workspace: the same answers from the server in the container', async () => {
    // The image once lacked python3-setuptools: pylsp then loaded none of its plugins and answered every request with nothing.
    expect((await agent.call('code_definition', { workspace: 'py-docker', path: 'main.py', line: 4, column: 6 })).text).toBe('shop/cart.py:8:9  def add_item(self, name: str, cents: int) -> None:');
    expect((await agent.call('code_hover', { workspace: 'py-docker', symbol: 'format_price', path: 'shop/pricing.py' })).text).toBe('format_price(cents: int) -> str\n\nCents as dollars, e.g. 150 -> $1.50.');
    await agent.call('file_write', { workspace: 'py-docker', path: 'bad.py', content: 'print(undefined_name)\n' });
    expect((await agent.call('code_diagnostics', { workspace: 'py-docker', path: 'bad.py' })).text).toBe("bad.py version 1: 1 problem\nbad.py:1:7  error: undefined name 'undefined_name'");
  }, 120_000);

  it('gopls: definition across packages, references by name path, hover, outline with methods, diagnostics', async () => {
    expect((await agent.call('code_definition', { workspace: 'go', path: 'main.go', line: 11, column: 4 })).text).toBe('cart/cart.go:18:16  func (c *Cart) AddItem(name string, cents int) {');
    expect((await agent.call('code_definition', { workspace: 'go', path: 'cart/cart.go', line: 28, column: 17 })).text).toBe('pricing/pricing.go:7:6  func FormatPrice(cents int) string {');

    // gopls names methods `(*Cart).AddItem` in outlines and `Cart.AddItem` in workspace symbols: both are Cart.AddItem here.
    const references = await agent.call('code_references', { workspace: 'go', symbol: 'Cart.AddItem' });
    expect(references.text).toBe(['cart/cart.go:18:16  func (c *Cart) AddItem(name string, cents int) {', 'main.go:11:4  c.AddItem("pen", 150)', 'main.go:12:4  c.AddItem("pad", 300)'].join('\n'));

    const hover = await agent.call('code_hover', { workspace: 'go', path: 'main.go', line: 11, column: 4 });
    expect(hover.text).toBe('func (*cart.Cart).AddItem(name string, cents int)\nAddItem adds one item to the cart.');

    const outline = await agent.call('code_symbols', { workspace: 'go', path: 'cart/cart.go' });
    expect(outline.text).toBe(
      [
        'cart/cart.go:7:6  struct Item',
        'cart/cart.go:8:2  field Item.Name',
        'cart/cart.go:9:2  field Item.Cents',
        'cart/cart.go:13:6  struct Cart',
        'cart/cart.go:14:2  field Cart.items',
        'cart/cart.go:18:16  method Cart.AddItem',
        'cart/cart.go:23:16  method Cart.Total',
      ].join('\n'),
    );
    expect((await agent.call('code_symbols', { workspace: 'go', query: 'FormatPrice' })).text).toBe('pricing/pricing.go:7:6  function example.com/shop/pricing.FormatPrice');

    expect((await agent.call('code_diagnostics', { workspace: 'go' })).text).toBe('3 files checked: no problems');
    await agent.call('file_write', { workspace: 'go', path: 'cart/broken.go', content: 'package cart\n\nvar count int = "many"\n' });
    expect((await agent.call('code_diagnostics', { workspace: 'go', path: 'cart/broken.go' })).text).toBe('cart/broken.go version 1: 1 problem\ncart/broken.go:3:17  error IncompatibleAssign: cannot use "many" (untyped string constant) as int value in variable declaration');
    await agent.call('file_delete', { workspace: 'go', path: 'cart/broken.go' });
  }, 120_000);

  it("gopls leaves the agent's go.mod as it is: a language server writes nothing behind the tools", async () => {
    expect((await agent.call('workspace_create', { name: 'go-bare' })).isError).toBe(false);
    await copyFixture(agent, 'go', 'go-bare');
    // No go directive: with GOFLAGS=-mod=mod, the `go list` gopls runs added one to the file.
    await agent.call('file_write', { workspace: 'go-bare', path: 'go.mod', content: 'module example.com/shop\n' });
    const before = (await agent.call('file_stat', { workspace: 'go-bare', path: 'go.mod' })).structured;
    expect((await agent.call('code_definition', { workspace: 'go-bare', path: 'main.go', line: 11, column: 4 })).text).toBe('cart/cart.go:18:16  func (c *Cart) AddItem(name string, cents int) {');
    expect((await agent.call('code_diagnostics', { workspace: 'go-bare' })).text).toBe('3 files checked: no problems');
    expect((await agent.call('file_read', { workspace: 'go-bare', path: 'go.mod' })).structured!.content).toBe('module example.com/shop');
    expect((await agent.call('file_stat', { workspace: 'go-bare', path: 'go.mod' })).structured).toEqual(before);
  }, 120_000);

  it('gopls: refactor_rename renames a function across packages', async () => {
    const dry = await agent.call('refactor_rename', { workspace: 'go', path: 'pricing/pricing.go', line: 7, column: 6, new_name: 'AsDollars', dry_run: true });
    expect(dry.isError, dry.text).toBe(false);
    expect(dry.structured).toMatchObject({ applied: false, diff: GO_RENAME_DIFF });
    // By name path this time: the outline places it.
    const applied = await agent.call('refactor_rename', { workspace: 'go', symbol: 'FormatPrice', path: 'pricing/pricing.go', new_name: 'AsDollars' });
    expect(applied.text).toBe(`applied: rename FormatPrice → AsDollars: 3 references in 2 files (go language server)\nM cart/cart.go (+1 -1)\nM pricing/pricing.go (+2 -2)\n${GO_RENAME_DIFF.replace(/\n$/, '')}`);
    // gopls type-checks the renamed module: both packages agree (the first report of cart.go may predate pricing.go's change; see ManagedLanguageServer.diagnostics).
    expect((await agent.call('code_diagnostics', { workspace: 'go' })).text).toBe('3 files checked: no problems');
  }, 120_000);
});
