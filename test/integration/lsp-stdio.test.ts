import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { createApp } from '../../src/app.js';
import { localPrincipal } from '../../src/cli/serve-command.js';
import { loadConfig } from '../../src/config/load-config.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers/fixtures.js';
import { directTypescriptServer, fileUri, processClient, type LspClient } from '../helpers/lsp-clients.js';
import { CLI } from '../helpers/mcp-clients.js';
import { tempDir } from '../helpers/test-server.js';

/*
 * `codebuddy lsp` over stdio, driven by a vscode-jsonrpc client and by Neovim 0.7 (headless,
 * a Lua script), against the TypeScript fixture: the answers must equal those
 * typescript-language-server gives when spoken to directly on the same folder.
 */

const NVIM = '/usr/bin/nvim';
const hasNvim = spawnSync(NVIM, ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasNvim && !process.env.CI) console.warn('no Neovim here (Debian neovim): the Neovim facade test is not run (see .ci/run)');

const at = { line: 6, character: 5 }; // main.ts 7:6, `addItem`

/** The Lua that drives Neovim: attach to `codebuddy lsp`, wait for the type error, ask at `at`, stop, write the answers as JSON. */
function neovimScript(o: { cli: string; dataDir: string; workspaceArg: string; root: string; out: string }): string {
  const q = (value: string) => JSON.stringify(value);
  return `local out = {}
local diags = {}
local handlers = {
  ['textDocument/publishDiagnostics'] = function(err, result, ctx, config)
    diags[result.uri] = result
  end,
}
local id = vim.lsp.start_client({
  name = 'codebuddy',
  cmd = { ${q(process.execPath)}, ${q(o.cli)}, '--data-dir', ${q(o.dataDir)}, 'lsp', '--workspace', ${q(o.workspaceArg)} },
  cmd_env = { CODEBUDDY_LOG_LEVEL = 'warn' },
  root_dir = ${q(o.root)},
  handlers = handlers,
})
local function finish()
  local f = io.open(${q(o.out)}, 'w')
  f:write(vim.fn.json_encode(out))
  f:close()
  vim.cmd('qa!')
end
vim.cmd('edit ' .. ${q(join(o.root, 'src/broken.ts'))})
vim.lsp.buf_attach_client(0, id)
local broken = vim.uri_from_bufnr(0)
vim.wait(90000, function() return diags[broken] ~= nil and #diags[broken].diagnostics > 0 end, 100)
out.brokenDiagnostics = diags[broken] and diags[broken].diagnostics or vim.NIL
vim.cmd('edit ' .. ${q(join(o.root, 'src/main.ts'))})
vim.lsp.buf_attach_client(0, id)
local main = vim.uri_from_bufnr(0)
vim.wait(90000, function() return diags[main] ~= nil end, 100)
local params = { textDocument = { uri = main }, position = { line = ${at.line}, character = ${at.character} } }
local function ask(method, p)
  local answers = vim.lsp.buf_request_sync(0, method, p, 60000)
  if not answers or not answers[id] then return vim.NIL end
  return answers[id].result or { error = answers[id].error }
end
out.definition = ask('textDocument/definition', params)
out.references = ask('textDocument/references', vim.tbl_extend('force', params, { context = { includeDeclaration = true } }))
out.hover = ask('textDocument/hover', params)
local client = vim.lsp.get_client_by_id(id)
client.stop()
vim.wait(20000, function() return client.is_stopped() end, 100)
out.stopped = client.is_stopped()
finish()
`;
}

const IMAGE = 'codebuddy-workspace:latest';
const engineReady = spawnSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' }).status === 0;
if (!engineReady && !process.env.CI) console.warn(`no Docker engine with ${IMAGE} here: the facade's Neovim test on Docker is not run (see .ci/run)`);
const runtimes = [{ runtime: 'local' as const, run: true }, { runtime: 'docker' as const, run: engineReady || Boolean(process.env.CI) }];

/** A Docker workspace of the local tenant in the CLI's data directory, holding the fixture (written as an agent would, through the registry). */
async function dockerWorkspace(dataDir: string): Promise<{ root: string; workspaceArg: string }> {
  const app = createApp(loadConfig({ env: {}, overrides: { dataDir, logLevel: 'silent', workspaceDiskBytes: 0 } }));
  try {
    const principal = { ...localPrincipal(), role: 'admin' as const };
    const workspace = await app.workspaces.create(principal, { name: 'docker-ts', runtime: 'docker' });
    const context = { principal, correlationId: 'test', signal: new AbortController().signal, logger: app.logger };
    const base = join(FIXTURES, 'typescript');
    for (const file of readdirSync(base, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile())) {
      const path = relative(base, join(file.parentPath, file.name));
      await app.registry.invoke('file_write', { workspace: 'docker-ts', path, content: readFileSync(join(base, path), 'utf8') }, context);
    }
    dockerCleanup = async () => {
      const again = createApp(loadConfig({ env: {}, overrides: { dataDir, logLevel: 'silent', workspaceDiskBytes: 0 } }));
      await again.workspaces.delete(principal, 'docker-ts').catch(() => undefined);
      again.close();
    };
    return { root: workspace.root, workspaceArg: 'docker-ts' };
  } finally {
    app.close();
  }
}
let dockerCleanup: () => Promise<void> = async () => undefined;


describe('codebuddy lsp over stdio', () => {
  let project: string;
  let dataDir: string;
  let direct: LspClient;
  const reference: Record<string, unknown> = {};

  beforeAll(async () => {
    project = tempDir('codebuddy-lsp-project-');
    cpSync(join(FIXTURES, 'typescript'), project, { recursive: true });
    // An adopted directory's commands (and servers) run as its owner, never root.
    execFileSync('chown', ['-R', '61000:61000', project]);
    dataDir = tempDir('codebuddy-lsp-data-');
    // The reference answers, from the server spoken to directly.
    direct = directTypescriptServer().client;
    await direct.initialize(fileUri(project));
    const broken = fileUri(join(project, 'src/broken.ts'));
    await direct.open(broken, readFileSync(join(project, 'src/broken.ts'), 'utf8'));
    reference.brokenDiagnostics = (await direct.diagnosticsFor(broken, (p) => p.diagnostics.length > 0)).diagnostics;
    const main = fileUri(join(project, 'src/main.ts'));
    await direct.open(main, readFileSync(join(project, 'src/main.ts'), 'utf8'));
    await direct.diagnosticsFor(main);
    const doc = { textDocument: { uri: main }, position: at };
    reference.definition = await direct.connection.sendRequest('textDocument/definition', doc);
    reference.references = await direct.connection.sendRequest('textDocument/references', { ...doc, context: { includeDeclaration: true } });
    reference.hover = await direct.connection.sendRequest('textDocument/hover', doc);
    expect(reference.definition).toEqual([{ uri: fileUri(join(project, 'src/cart.ts')), range: { start: { line: 12, character: 2 }, end: { line: 12, character: 9 } } }]);
    await direct.close();
  }, 120_000);

  afterAll(async () => {
    await dockerCleanup();
    rmSync(project, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a vscode-jsonrpc client: initialize, diagnostics, definition, references, hover, refusals, shutdown', async () => {
    const { client, child, stderr } = processClient(process.execPath, [CLI, '--data-dir', dataDir, 'lsp', '--workspace', project], { CODEBUDDY_LOG_LEVEL: 'warn' });
    try {
      // It takes progress: the server's own (loading the project) reaches it.
      const init = await client.initialize(fileUri(project), { window: { workDoneProgress: true } });
      expect(init.capabilities).toMatchObject({
        textDocumentSync: { openClose: true, change: 1 },
        definitionProvider: true,
        referencesProvider: true,
        hoverProvider: true,
        executeCommandProvider: { commands: expect.arrayContaining(['codebuddy.approve', 'codebuddy.reject', 'codebuddy.diff']) },
      });
      // The project is loaded once the type error is reported (before that, typescript-language-server answers from syntax alone).
      const broken = fileUri(join(project, 'src/broken.ts'));
      await client.open(broken, readFileSync(join(project, 'src/broken.ts'), 'utf8'));
      expect((await client.diagnosticsFor(broken, (p) => p.diagnostics.length > 0)).diagnostics).toEqual(reference.brokenDiagnostics);
      // typescript-language-server reported loading the project: a token it created (told to the editor first, under the server's id), begun and ended.
      const created = (await client.notification('window/workDoneProgress/create')) as { token: string };
      expect(created.token).toMatch(/^typescript\//);
      const loading = client.notifications.filter((n) => n.method === '$/progress' && (n.params as { token: unknown }).token === created.token).map((n) => n.params);
      expect(loading[0]).toEqual({ token: created.token, value: { kind: 'begin', title: 'Initializing JS/TS language features…' } });
      await client.notification('$/progress', (p) => (p as { token: unknown; value: { kind: string } }).token === created.token && (p as { value: { kind: string } }).value.kind === 'end');
      expect(client.notifications.findIndex((n) => n.method === 'window/workDoneProgress/create')).toBeLessThan(client.notifications.findIndex((n) => n.method === '$/progress'));

      const main = fileUri(join(project, 'src/main.ts'));
      await client.open(main, readFileSync(join(project, 'src/main.ts'), 'utf8'), 7);
      // Diagnostics carry the editor's own version.
      expect(await client.diagnosticsFor(main)).toMatchObject({ uri: main, version: 7, diagnostics: [] });
      const doc = { textDocument: { uri: main }, position: at };
      expect(await client.connection.sendRequest('textDocument/definition', doc)).toEqual(reference.definition);
      expect(await client.connection.sendRequest('textDocument/references', { ...doc, context: { includeDeclaration: true } })).toEqual(reference.references);
      expect(await client.connection.sendRequest('textDocument/hover', doc)).toEqual(reference.hover);

      // A document outside the editor's root is refused, not routed.
      await expect(client.connection.sendRequest('textDocument/hover', { textDocument: { uri: 'file:///etc/passwd' }, position: { line: 0, character: 0 } })).rejects.toMatchObject({ code: -32602 });
      // Methods the facade does not serve say so.
      await expect(client.connection.sendRequest('codebuddy/nothing', {})).rejects.toMatchObject({ code: -32601 });
      await client.close();
      expect(child.exitCode, stderr()).toBe(0);
    } finally {
      child.kill();
    }
  }, 180_000);

  it.runIf(hasNvim || Boolean(process.env.CI)).each(runtimes)('Neovim 0.7 (headless, Lua) on the $runtime runtime: definition, references, hover, diagnostics, shutdown', async ({ runtime, run }) => {
    if (!run) return;
    // Local: the project folder, adopted. Docker: a workspace whose container runs the server; Neovim edits its files on the host.
    const { root, workspaceArg } = runtime === 'local' ? { root: project, workspaceArg: project } : await dockerWorkspace(dataDir);
    const mapped = JSON.parse(JSON.stringify(reference).replaceAll(fileUri(project), fileUri(root))) as typeof reference;
    const out = join(dataDir, `nvim-${runtime}.json`);
    const script = join(dataDir, `drive-${runtime}.lua`);
    writeFileSync(script, neovimScript({ cli: CLI, dataDir, workspaceArg, root, out }));
    const nvim = spawnSync(NVIM, ['--headless', '--clean', '-c', `luafile ${script}`], { timeout: 170_000, encoding: 'utf8' });
    expect(nvim.status, `${nvim.stdout}\n${nvim.stderr}`).toBe(0);
    const answers = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
    expect(answers.definition).toEqual(mapped.definition);
    expect(answers.references).toEqual(mapped.references);
    expect(answers.hover).toEqual(mapped.hover);
    expect(answers.brokenDiagnostics).toEqual(mapped.brokenDiagnostics);
    expect(answers.stopped).toBe(true);
  }, 240_000);

  it('the local approver at the editor decides an agent\'s held write made in another process (seen by polling), through the code action', async () => {
    const notes = join(project, 'notes.txt');
    writeFileSync(notes, 'alpha\nbeta\n');
    execFileSync('chown', ['61000:61000', notes]);
    const { client, child } = processClient(process.execPath, [CLI, '--data-dir', dataDir, 'lsp', '--workspace', project], { CODEBUDDY_LOG_LEVEL: 'warn' });
    // Another process on the same data directory (as `codebuddy serve` would be): an agent's write, held for review.
    const other = createApp(loadConfig({ env: {}, overrides: { dataDir, logLevel: 'silent', workspaceDiskBytes: 0 } }));
    try {
      await client.initialize(fileUri(project));
      const uri = fileUri(notes);
      await client.open(uri, 'alpha\nbeta\n', 1, 'plaintext');
      const admin = { ...localPrincipal(), role: 'admin' as const };
      const workspace = await other.workspaces.adoptLocal(admin, project);
      const context = (principal: typeof admin | { tenantId: string; userId: string; role: 'agent' }) => ({ principal, correlationId: 'test', signal: new AbortController().signal, logger: other.logger });
      await other.registry.invoke('policy_set', { workspace: workspace.id, preset: 'review-writes' }, context(admin));
      const held = await other.registry.invoke('file_edit', { workspace: workspace.id, path: 'notes.txt', edits: [{ old: 'beta', new: 'BETA' }] }, context({ tenantId: 'local', userId: 'bot', role: 'agent' }));
      const id = held.output.action_id as string;
      const pending = await client.diagnosticsFor(uri, (p) => p.diagnostics.some((d) => d.code === id));
      expect(pending.diagnostics).toEqual([expect.objectContaining({ source: 'codebuddy', severity: 3, range: { start: { line: 1, character: 0 }, end: { line: 2, character: 0 } } })]);
      expect(await client.notification('codebuddy/actionChanged')).toEqual({ id, operation: 'file_edit', state: 'proposed' });
      const [, approve] = (await client.connection.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: pending.diagnostics[0]!.range, context: { diagnostics: pending.diagnostics } })) as { command: { command: string; arguments: unknown[] } }[];
      // The person at the editor is the local approver.
      expect(await client.connection.sendRequest('workspace/executeCommand', approve!.command)).toMatchObject({ id, status: 'applied', decided_by: `local/${localPrincipal().userId}` });
      expect(readFileSync(notes, 'utf8')).toBe('alpha\nBETA\n');
      await client.diagnosticsFor(uri, (p) => p.diagnostics.length === 0);
      await client.close();
      expect(child.exitCode).toBe(0);
    } finally {
      other.close();
      child.kill();
    }
  }, 120_000);
});
