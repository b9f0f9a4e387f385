import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFixture, FIXTURES } from '../helpers/fixtures.js';
import { socketClient } from '../helpers/lsp-clients.js';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * The facade against a Docker workspace: typescript-language-server runs in the workspace's
 * container (docker exec -i), an editor reaches it over /lsp/:workspace with a vscode-jsonrpc
 * client, and gets the same answers the local runtime gives (file:///workspace mapped to its root).
 */

const IMAGE = 'codebuddy-workspace:latest';
const engineReady = spawnSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' }).status === 0;
if (!engineReady && !process.env.CI) console.warn(`no Docker engine with ${IMAGE} here: the facade's Docker test is not run (see .ci/run)`);
const run = engineReady || Boolean(process.env.CI);

const ROOT = 'codebuddy://acme/docker-ts';

describe.runIf(run)('the LSP facade on a Docker workspace', () => {
  let server: TestServer;
  let agent: McpClient;
  let token: string;

  beforeAll(async () => {
    server = await startTestServer({ codeRequestTimeoutSeconds: 60, codeReadyTimeoutSeconds: 90 });
    agent = await connectModernHttp(server.url, server.token('acme', 'bot'));
    token = server.token('acme', 'ana', 'approver');
    expect((await agent.call('workspace_create', { name: 'docker-ts', runtime: 'docker' })).isError).toBe(false);
    await copyFixture(agent, 'typescript', 'docker-ts');
  }, 180_000);

  afterAll(async () => {
    await agent?.call('workspace_delete', { workspace: 'docker-ts' }).catch(() => undefined);
    await agent?.close();
    await server?.close();
  }, 120_000);

  it('diagnostics, definition, references and hover from the server in the container', async () => {
    const editor = await socketClient(`ws://${server.url.host}/lsp/docker-ts?token=${token}`);
    expect((await editor.initialize(ROOT)).capabilities).toMatchObject({ definitionProvider: true, referencesProvider: true, hoverProvider: true });
    const broken = `${ROOT}/src/broken.ts`;
    await editor.open(broken, readFileSync(join(FIXTURES, 'typescript/src/broken.ts'), 'utf8'));
    const diagnostics = await editor.diagnosticsFor(broken, (p) => p.diagnostics.length > 0);
    expect(diagnostics.diagnostics.map((d) => [d.range.start, d.message])).toEqual([[{ line: 3, character: 13 }, "Type 'string' is not assignable to type 'number'."]]);
    const main = `${ROOT}/src/main.ts`;
    await editor.open(main, readFileSync(join(FIXTURES, 'typescript/src/main.ts'), 'utf8'));
    await editor.diagnosticsFor(main);
    const at = { textDocument: { uri: main }, position: { line: 6, character: 5 } };
    expect(await editor.connection.sendRequest('textDocument/definition', at)).toEqual([{ uri: `${ROOT}/src/cart.ts`, range: { start: { line: 12, character: 2 }, end: { line: 12, character: 9 } } }]);
    const references = (await editor.connection.sendRequest('textDocument/references', { ...at, context: { includeDeclaration: true } })) as { uri: string; range: { start: { line: number } } }[];
    expect(references.map((r) => `${r.uri.slice(ROOT.length + 1)}:${r.range.start.line + 1}`).sort()).toEqual(['src/cart.ts:13', 'src/main.ts:7', 'src/main.ts:8']);
    const hover = (await editor.connection.sendRequest('textDocument/hover', at)) as { contents: { value: string } };
    expect(hover.contents.value).toContain('(method) Cart.addItem(product: Product, quantity?: number): void');
    await editor.close();
  }, 180_000);
});
