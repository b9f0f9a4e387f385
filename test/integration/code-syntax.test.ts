/**
 * code_outline and code_query over real MCP (the v2 client, 2026-07-28, over HTTP) on
 * fixtures/languages: one realistic file per grammar in grammars/. No language server runs.
 */
import { cpSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrammarManifest } from '../../src/code/syntax/grammar-manifest.js';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/test-server.js';

const FIXTURES = new URL('../../fixtures/languages/', import.meta.url).pathname;

const OUTLINES: Record<string, string[]> = {
  'sample.cpp': [
    'namespace shop  L5-L35',
    '  struct Item  L7-L10',
    '    field name  L8-L8',
    '    field price  L9-L9',
    '  enum Status  L12-L12',
    '  class Cart  L14-L27',
    '    method Cart  L16-L16',
    '    method addItem  L17-L17',
    '    method total  L18-L22',
    '    field items_  L25-L25',
    '    field owner_  L26-L26',
    '  method addItem  L29-L29',
    '  function formatPrice  L31-L33',
  ],
  'sample.cs': [
    'namespace Shop  L3-L36',
    '  interface IPriced  L5-L9',
    '    property Price  L7-L7',
    '    method Label  L8-L8',
    '  enum Status  L11-L11',
    '  class Line  L13-L13',
    '  class Cart  L15-L30',
    '    field items  L17-L17',
    '    property Owner  L19-L19',
    '    constructor Cart  L21-L24',
    '    method AddItem  L26-L29',
    '  struct Money  L32-L35',
    '    field Amount  L34-L34',
  ],
  'sample.go': [
    'interface Priced  L7-L9',
    '  method Price  L8-L8',
    'struct Cart  L11-L14',
    '  field Items  L12-L12',
    '  field Owner  L13-L13',
    'type Total  L16-L16',
    'method AddItem  L18-L20',
    'method Total  L22-L28',
    'function FormatPrice  L30-L32',
  ],
  'sample.java': [
    'class Sample  L7-L34',
    '  interface Priced  L8-L10',
    '    method price  L9-L9',
    '  enum Status  L12-L12',
    '  class Cart  L14-L29',
    '    field items  L15-L15',
    '    field owner  L16-L16',
    '    constructor Cart  L18-L20',
    '    method addItem  L22-L24',
    '    method total  L26-L28',
    '  method formatPrice  L31-L33',
  ],
  'sample.js': [
    'class Cart  L2-L12',
    '  field items  L3-L3',
    '  method addItem  L5-L7',
    '  method total  L9-L11',
    'function formatPrice  L14-L16',
    'function emptyCart  L18-L18',
    'function ids  L20-L23',
  ],
  'sample.php': [
    'namespace Shop  L3-L3',
    'interface Priced  L5-L8',
    '  method price  L7-L7',
    'trait Labelled  L10-L16',
    '  method label  L12-L15',
    'class Cart  L18-L28',
    '  property $items  L22-L22',
    '  method addItem  L24-L27',
    'function format_price  L30-L33',
  ],
  'sample.py': [
    'class Priced  L6-L9',
    '  field price  L7-L7',
    '  method label  L9-L9',
    'class Cart  L13-L21',
    '  field items  L14-L14',
    '  method add_item  L16-L17',
    '  method total  L20-L21',
    'function format_price  L24-L25',
    'function checkout  L28-L29',
  ],
  'sample.rb': [
    'module Shop  L2-L23',
    '  class Cart  L3-L18',
    '    method initialize  L6-L9',
    '    method add_item  L11-L13',
    '    method empty  L15-L17',
    '  method format_price  L20-L22',
  ],
  'sample.rs': [
    'trait Priced  L4-L6',
    '  method price  L5-L5',
    'struct Cart  L8-L11',
    '  field items  L9-L9',
    '  field owner  L10-L10',
    'enum Status  L13-L16',
    'impl Cart  L18-L26',
    '  method new  L19-L21',
    '  method add_item  L23-L25',
    'impl Cart  L28-L32',
    '  method fmt  L29-L31',
    'type Price  L34-L34',
    'module pricing  L36-L40',
    '  function format_price  L37-L39',
  ],
  'sample.sh': [
    'function log  L5-L7',
    'function build_all  L9-L12',
  ],
  'sample.ts': [
    'interface Priced  L2-L5',
    '  property price  L3-L3',
    '  method label  L4-L4',
    'type Currency  L7-L7',
    'enum Status  L9-L12',
    'class Cart  L14-L24',
    '  field items  L15-L15',
    '  method addItem  L17-L19',
    '  method total  L21-L23',
    'function formatPrice  L26-L28',
    'function emptyCart  L30-L30',
    'namespace Checkout  L32-L36',
    '  function pay  L33-L35',
  ],
  'sample.tsx': [
    'interface CounterProps  L3-L5',
    '  property start  L4-L4',
    'function Counter  L7-L10',
    'class Panel  L12-L18',
    '  field title  L13-L13',
    '  method render  L15-L17',
    'function Badge  L20-L20',
  ],
};

/** A query per grammar, and exactly what it answers on that grammar's fixture. */
const QUERIES: Record<string, { query: string; answer: string[] }> = {
  typescript: {
    query: '(method_definition name: (property_identifier) @method)',
    answer: ['sample.ts:17:3  method  addItem(item: Priced): void {', 'sample.ts:21:3  method  total(): number {'],
  },
  tsx: {
    query: '(jsx_self_closing_element name: (identifier) @component)',
    answer: ['sample.tsx:16:43  component  return <section><h1>{this.title}</h1><Counter start={0} /></section>;'],
  },
  javascript: {
    query: '(call_expression function: (member_expression property: (property_identifier) @call))',
    answer: ['sample.js:6:16  call  this.items.push(item);', 'sample.js:10:23  call  return this.items.reduce((sum, item) => sum + item.price, 0);', 'sample.js:15:17  call  return amount.toFixed(2);'],
  },
  python: {
    query: '(decorator (identifier) @decorator)',
    answer: ['sample.py:12:2  decorator  @dataclass', 'sample.py:19:6  decorator  @property'],
  },
  go: {
    query: '(method_declaration receiver: (parameter_list (parameter_declaration type: (pointer_type))) name: (field_identifier) @pointer_method)',
    answer: ['sample.go:18:16  pointer_method  func (c *Cart) AddItem(item Priced) {'],
  },
  rust: {
    query: '(impl_item trait: (_) @trait type: (_) @type)',
    answer: ['sample.rs:28:6  trait  impl fmt::Display for Cart {', 'sample.rs:28:23  type  impl fmt::Display for Cart {'],
  },
  java: {
    query: '(method_declaration type: (void_type) name: (identifier) @void_method)',
    answer: ['sample.java:22:14  void_method  void addItem(Priced item) {'],
  },
  c_sharp: {
    query: '(property_declaration name: (identifier) @property)',
    answer: ['sample.cs:7:17  property  decimal Price { get; }', 'sample.cs:19:23  property  public string Owner { get; set; }'],
  },
  cpp: {
    query: '(function_definition declarator: (function_declarator declarator: (qualified_identifier) @out_of_class))',
    answer: ['sample.cpp:29:6  out_of_class  void Cart::addItem(const Item& item) { items_.push_back(item); }'],
  },
  ruby: {
    query: '(singleton_method name: (identifier) @class_method)',
    answer: ['sample.rb:15:14  class_method  def self.empty', 'sample.rb:20:12  class_method  def self.format_price(amount)'],
  },
  php: {
    query: '(use_declaration (name) @trait_use)',
    answer: ['sample.php:20:9  trait_use  use Labelled;'],
  },
  bash: {
    query: '(command name: (command_name (word) @command) (#eq? @command "make"))',
    answer: ['sample.sh:11:3  command  make -j2'],
  },
};

describe('tree-sitter code tools', () => {
  let server: TestServer;
  let agent: McpClient;
  let root: string;
  let outside: string;

  beforeAll(async () => {
    server = await startTestServer({ searchPageSize: 5 });
    agent = await connectModernHttp(server.url, server.token('acme', 'bot', 'agent'));
    root = (await agent.call('workspace_create', { name: 'main' })).structured!.root as string;
    cpSync(FIXTURES, root, { recursive: true });
    outside = tempDir('codebuddy-outside-');
    writeFileSync(join(outside, 'secret.ts'), 'export class OutsideSecret {}\n');
  });

  afterAll(async () => {
    await agent?.close();
    await server?.close();
    if (outside) rmSync(outside, { recursive: true, force: true });
  });

  it('has a fixture, an outline and a query for every grammar in grammars/', () => {
    const languages = GrammarManifest.load().all;
    expect(Object.keys(QUERIES).sort()).toEqual(languages.map((grammar) => grammar.name).sort());
    const fixtureLanguages = Object.keys(OUTLINES).map((file) => GrammarManifest.load().forPath(file)?.name);
    expect(fixtureLanguages.sort()).toEqual(languages.map((grammar) => grammar.name).sort());
  });

  it.each(Object.entries(OUTLINES))('outlines %s exactly', async (file, lines) => {
    const answer = await agent.call('code_outline', { path: file });
    expect(answer.isError).toBe(false);
    expect(answer.text).toBe(lines.join('\n'));
    expect(answer.structured).toMatchObject({ path: file, total: lines.length });
  });

  it('gives name paths and 1-based ranges in structuredContent', async () => {
    const ts = (await agent.call('code_outline', { path: 'sample.ts' })).structured!;
    expect(ts.language).toBe('typescript');
    expect((ts.symbols as { name_path: string }[]).map((symbol) => symbol.name_path)).toEqual([
      'Priced', 'Priced.price', 'Priced.label', 'Currency', 'Status', 'Cart', 'Cart.items', 'Cart.addItem', 'Cart.total', 'formatPrice', 'emptyCart', 'Checkout', 'Checkout.pay',
    ]);
    expect((ts.symbols as unknown[])[7]).toEqual({ kind: 'method', name: 'addItem', name_path: 'Cart.addItem', depth: 1, start_line: 17, start_column: 3, end_line: 19, end_column: 4 });
    // Methods defined outside their type are named by it: Go receivers, C++ `Cart::addItem` inside its namespace.
    const go = (await agent.call('code_outline', { path: 'sample.go' })).structured!.symbols as { name_path: string }[];
    expect(go.map((symbol) => symbol.name_path)).toEqual(['Priced', 'Priced.Price', 'Cart', 'Cart.Items', 'Cart.Owner', 'Total', 'Cart.AddItem', 'Cart.Total', 'FormatPrice']);
    const cpp = (await agent.call('code_outline', { path: 'sample.cpp' })).structured!.symbols as { name_path: string }[];
    expect(cpp.at(-2)!.name_path).toBe('shop.Cart.addItem');
    const rust = (await agent.call('code_outline', { path: 'sample.rs' })).structured!.symbols as { name_path: string }[];
    expect(rust.map((symbol) => symbol.name_path)).toContain('Cart.add_item');
  });

  it.each(Object.entries(QUERIES))('runs a %s query exactly', async (language, { query, answer }) => {
    const result = await agent.call('code_query', { query, language });
    expect(result.isError).toBe(false);
    expect(result.text).toBe(answer.join('\n'));
    expect(result.structured).toMatchObject({ language, files_searched: 1, incomplete: [] });
  });

  it('infers the language from the glob, and says how when it cannot', async () => {
    const inferred = await agent.call('code_query', { query: '(class_declaration name: (_) @class)', glob: '*.ts' });
    expect(inferred.text).toBe('sample.ts:14:14  class  export class Cart {');
    const none = await agent.call('code_query', { query: '(identifier) @id' });
    expect(none).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect(none.meta?.['codebuddy/error']).toMatchObject({ field: 'language' });
    const unknown = await agent.call('code_query', { query: '(identifier) @id', language: 'cobol' });
    expect(unknown).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect(unknown.text).toContain('typescript, tsx, javascript');
  });

  it('refuses a query that does not compile with tree-sitter\'s message and offset', async () => {
    const badNode = await agent.call('code_query', { query: '(class_declaration name: (type_identifier) @n) (foo)', language: 'typescript' });
    expect(badNode).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect(badNode.text).toBe("E_INVALID_ARGUMENT: the query does not compile for typescript at offset 48 (line 1, column 49): Bad node name 'foo'");
    expect(badNode.meta?.['codebuddy/error']).toMatchObject({ field: 'query', offset: 48 });
    const unbalanced = await agent.call('code_query', { query: '(class_declaration\n  name: (_) @n', glob: '**/*.ts' });
    expect(unbalanced).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect(unbalanced.meta?.['codebuddy/error']).toMatchObject({ field: 'query', offset: 33 });
  });

  it('pages query captures with a stable cursor, across files and inside one', async () => {
    mkdirSync(join(root, 'paging'));
    const expected: string[] = [];
    for (const file of ['a.py', 'b.py', 'c.py']) {
      writeFileSync(join(root, 'paging', file), ['def one():', '    pass', 'def two():', '    pass', 'def three():', '    pass', 'def four():', '    pass', ''].join('\n'));
      ['one', 'two', 'three', 'four'].forEach((name, index) => expected.push(`paging/${file}:${index * 2 + 1}:5  fn  def ${name}():`));
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await agent.call('code_query', { query: '(function_definition name: (identifier) @fn)', glob: 'paging/*.py', ...(cursor ? { cursor } : {}) });
      expect(page.isError).toBe(false);
      const captures = page.structured!.captures as unknown[];
      seen.push(...page.text.split('\n').slice(0, captures.length));
      const next = page.structured!.next_cursor as string | undefined;
      if (next) {
        expect(page.text.split('\n').at(-1)).toBe(`[${captures.length} captures shown; more: call again with cursor "${next}"]`);
        // The same cursor answers the same page.
        expect((await agent.call('code_query', { query: '(function_definition name: (identifier) @fn)', glob: 'paging/*.py', cursor: next })).structured!.captures).toEqual(
          (await agent.call('code_query', { query: '(function_definition name: (identifier) @fn)', glob: 'paging/*.py', cursor: next })).structured!.captures,
        );
      }
      cursor = next;
      pages++;
    } while (cursor);
    expect(seen).toEqual(expected);
    expect(pages).toBe(3);
    const replayed = await agent.call('code_query', { query: '(identifier) @other', glob: 'paging/*.py', cursor: (await agent.call('code_query', { query: '(function_definition name: (identifier) @fn)', glob: 'paging/*.py' })).structured!.next_cursor });
    expect(replayed).toMatchObject({ isError: true, code: 'E_INVALID_CURSOR' });
  });

  it('pages a long outline', async () => {
    const functions = Array.from({ length: 1100 }, (_, index) => `export function f${index}(): number {\n  return ${index};\n}\n`).join('');
    writeFileSync(join(root, 'long.ts'), functions);
    const names: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = (await agent.call('code_outline', { path: 'long.ts', ...(cursor ? { cursor } : {}) })).structured!;
      names.push(...(page.symbols as { name: string }[]).map((symbol) => symbol.name));
      expect(page.total).toBe(1100);
      cursor = page.next_cursor as string | undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(names).toEqual(Array.from({ length: 1100 }, (_, index) => `f${index}`));
    const first = await agent.call('code_outline', { path: 'long.ts' });
    expect(first.text.split('\n').at(-1)).toBe(`[500 of 1100 symbols shown; more: call again with cursor "${first.structured!.next_cursor as string}"]`);
    const elsewhere = await agent.call('code_outline', { path: 'sample.ts', cursor: first.structured!.next_cursor });
    expect(elsewhere).toMatchObject({ isError: true, code: 'E_INVALID_CURSOR' });
  });

  it('refuses an unknown extension, a directory, a missing file and binary content', async () => {
    writeFileSync(join(root, 'notes.txt'), 'plain text\n');
    const unknown = await agent.call('code_outline', { path: 'notes.txt' });
    expect(unknown).toMatchObject({ isError: true, code: 'E_UNSUPPORTED' });
    expect(unknown.text).toContain('no grammar parses notes.txt; supported extensions: .ts .mts .cts .tsx');
    expect(await agent.call('code_outline', { path: 'paging' })).toMatchObject({ isError: true, code: 'E_NOT_A_FILE' });
    expect(await agent.call('code_outline', { path: 'missing.ts' })).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
    writeFileSync(join(root, 'blob.ts'), Buffer.from([0x63, 0x6c, 0x61, 0x73, 0x73, 0x00, 0xff, 0xfe]));
    expect(await agent.call('code_outline', { path: 'blob.ts' })).toMatchObject({ isError: true, code: 'E_UNSUPPORTED', text: 'E_UNSUPPORTED: blob.ts is binary: nothing to outline' });
  });

  it('refuses paths outside the workspace and symlinks out, and code_query never follows them', async () => {
    expect(await agent.call('code_outline', { path: '../secret.ts' })).toMatchObject({ isError: true, code: 'E_PATH_OUTSIDE_WORKSPACE' });
    expect(await agent.call('code_outline', { path: join(outside, 'secret.ts') })).toMatchObject({ isError: true, code: 'E_PATH_OUTSIDE_WORKSPACE' });
    mkdirSync(join(root, 'links'));
    symlinkSync(join(outside, 'secret.ts'), join(root, 'links', 'secret.ts'));
    symlinkSync(outside, join(root, 'links', 'outside-dir'));
    const viaLink = await agent.call('code_outline', { path: 'links/secret.ts' });
    expect(viaLink).toMatchObject({ isError: true, code: 'E_PATH_OUTSIDE_WORKSPACE' });
    expect(viaLink.text).not.toContain('OutsideSecret');
    expect(await agent.call('code_outline', { path: 'links/outside-dir/secret.ts' })).toMatchObject({ isError: true, code: 'E_PATH_OUTSIDE_WORKSPACE' });
    const query = await agent.call('code_query', { query: '(class_declaration name: (_) @class)', glob: '**/*.ts' });
    expect(query.text).not.toContain('OutsideSecret');
    expect(query.text).toBe('sample.ts:14:14  class  export class Cart {');
  });

  it('honours .gitignore and skips files over the size limit, saying so', async () => {
    mkdirSync(join(root, 'gi'));
    writeFileSync(join(root, 'gi', '.gitignore'), 'ignored.rb\n');
    writeFileSync(join(root, 'gi', 'ignored.rb'), 'class Hidden\nend\n');
    writeFileSync(join(root, 'gi', 'kept.rb'), 'class Kept\nend\n');
    writeFileSync(join(root, 'gi', 'huge.rb'), `class Huge\nend\n${'# padding\n'.repeat(120_000)}`);
    const answer = await agent.call('code_query', { query: '(class name: (constant) @class)', glob: 'gi/*.rb' });
    expect(answer.text).toBe(['gi/kept.rb:1:7  class  class Kept', '[gi/huge.rb: skipped: 1200015 bytes, over the 1048576-byte limit]'].join('\n'));
    expect(await agent.call('code_outline', { path: 'gi/huge.rb' })).toMatchObject({ isError: true, code: 'E_TOO_LARGE' });
  });

  it('records each call in the audit trail like any read, refused ones too', async () => {
    const outlines = await agent.call('audit_query', { operation: 'code_outline', status: 'failed' });
    expect(outlines.isError).toBe(false);
    expect(outlines.text).toContain('E_UNSUPPORTED');
    const queries = await agent.call('audit_query', { operation: 'code_query', status: 'succeeded' });
    expect(queries.text).toContain('code_query');
  });
});
