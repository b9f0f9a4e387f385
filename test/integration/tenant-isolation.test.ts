/**
 * Tenant isolation over HTTP. Tenants `acme` and `globex` each own a workspace named
 * `shared-name`; acme also owns `acme-only` and an adopted directory. Every tool that
 * takes a workspace is called across the tenant line, by id and by name, in both MCP eras:
 * the answer must be E_NOT_FOUND, worded exactly as for a workspace that never existed.
 * Then: sessions belong to their principal, bad credentials get 401, and JWT principals
 * land in the tenant their claim names.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyHttpTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectHttp, type McpClient, type ToolAnswer } from '../helpers/mcp-clients.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/test-server.js';

const JWT_SECRET = randomBytes(32).toString('base64url'); // 43 chars
const eras = ['2025-11-25', '2026-07-28'] as const;
type Era = (typeof eras)[number];
type Tenant = 'acme' | 'globex';
const MADE_UP_ID = 'ws_doesnotexist000000000000';
const ACME_CONTENT = 'acme confidential\n';
const GLOBEX_CONTENT = 'globex confidential\n';

interface Env {
  server: TestServer;
  tokens: Record<Tenant, string>;
  clients: Record<Era, Record<Tenant, McpClient>>;
  ids: { acmeShared: string; acmeOnly: string; acmeAdopted: string; globexShared: string };
  roots: { acmeShared: string; globexShared: string };
  adoptRoot: string;
  acmeProject: string;
  /** A note of acme's shared-name, with a link, a task and an artifact: what the note tools name. */
  notes: { note: string; link: string; task: string; artifact: string };
}

let env: Env;

/** Every tool that names a workspace, with arguments that would succeed in the target workspace. */
const workspaceTools: { tool: string; args: (workspace: string) => Record<string, unknown> }[] = [
  { tool: 'workspace_get', args: (workspace) => ({ workspace }) },
  { tool: 'workspace_delete', args: (workspace) => ({ workspace }) },
  { tool: 'file_read', args: (workspace) => ({ path: 'hello.txt', workspace }) },
  { tool: 'file_write', args: (workspace) => ({ path: 'intruder.txt', content: 'intruder\n', workspace }) },
  { tool: 'file_edit', args: (workspace) => ({ path: 'hello.txt', edits: [{ old: 'confidential', new: 'leaked' }], workspace }) },
  { tool: 'file_list', args: (workspace) => ({ workspace }) },
  { tool: 'file_glob', args: (workspace) => ({ pattern: '**', workspace }) },
  { tool: 'file_search', args: (workspace) => ({ pattern: 'confidential', workspace }) },
  { tool: 'file_move', args: (workspace) => ({ from: 'hello.txt', to: 'moved.txt', workspace }) },
  { tool: 'file_delete', args: (workspace) => ({ path: 'hello.txt', workspace }) },
  { tool: 'file_stat', args: (workspace) => ({ path: 'hello.txt', workspace }) },
  { tool: 'policy_get', args: (workspace) => ({ workspace }) },
  { tool: 'exec', args: (workspace) => ({ command: ['cat', 'hello.txt'], workspace }) },
  { tool: 'terminal_open', args: (workspace) => ({ shell: '/bin/sh', workspace }) },
  { tool: 'terminal_list', args: (workspace) => ({ workspace }) },
  { tool: 'workspace_stop', args: (workspace) => ({ workspace }) },
  { tool: 'workspace_start', args: (workspace) => ({ workspace }) },
  { tool: 'workspace_state', args: (workspace) => ({ workspace }) },
  { tool: 'doc_history', args: (workspace) => ({ path: 'hello.txt', workspace }) },
  { tool: 'doc_at', args: (workspace) => ({ path: 'hello.txt', at: 0, workspace }) },
  { tool: 'code_outline', args: (workspace) => ({ path: 'hello.txt', workspace }) },
  { tool: 'code_query', args: (workspace) => ({ query: '(identifier) @id', language: 'typescript', workspace }) },
  { tool: 'code_definition', args: (workspace) => ({ path: 'hello.txt', line: 1, column: 1, workspace }) },
  { tool: 'code_references', args: (workspace) => ({ path: 'hello.txt', line: 1, column: 1, workspace }) },
  { tool: 'code_hover', args: (workspace) => ({ path: 'hello.txt', line: 1, column: 1, workspace }) },
  { tool: 'code_diagnostics', args: (workspace) => ({ path: 'hello.txt', workspace }) },
  { tool: 'code_symbols', args: (workspace) => ({ path: 'hello.txt', workspace }) },
  { tool: 'code_status', args: (workspace) => ({ workspace }) },
  { tool: 'refactor_rename', args: (workspace) => ({ path: 'hello.txt', line: 1, column: 1, new_name: 'leaked', workspace }) },
  { tool: 'refactor_move', args: (workspace) => ({ from: 'hello.txt', to: 'moved.txt', workspace }) },
  { tool: 'refactor_extract', args: (workspace) => ({ path: 'hello.txt', range: { start: { line: 1, column: 1 }, end: { line: 1, column: 2 } }, kind: 'constant', name: 'x', workspace }) },
  { tool: 'refactor_organize_imports', args: (workspace) => ({ path: 'hello.txt', workspace }) },
  { tool: 'refactor_signature', args: (workspace) => ({ symbol: 'hello', change: { action: 'remove', name: 'x' }, workspace }) },
  { tool: 'note_create', args: (workspace) => ({ title: 'intruder', workspace }) },
  { tool: 'note_get', args: (workspace) => ({ id: env.notes.note, workspace }) },
  { tool: 'note_update', args: (workspace) => ({ id: env.notes.note, version: 1, body: 'leaked', workspace }) },
  { tool: 'note_delete', args: (workspace) => ({ id: env.notes.note, workspace }) },
  { tool: 'note_list', args: (workspace) => ({ workspace }) },
  { tool: 'note_search', args: (workspace) => ({ query: 'confidential', workspace }) },
  { tool: 'note_link', args: (workspace) => ({ from: env.notes.note, type: 'relates', path: 'hello.txt', workspace }) },
  { tool: 'note_unlink', args: (workspace) => ({ id: env.notes.link, workspace }) },
  { tool: 'task_list', args: (workspace) => ({ workspace }) },
  { tool: 'task_update', args: (workspace) => ({ id: env.notes.task, status: 'done', workspace }) },
  { tool: 'artifact_add', args: (workspace) => ({ note: env.notes.note, content: 'planted', workspace }) },
  { tool: 'artifact_get', args: (workspace) => ({ id: env.notes.artifact, workspace }) },
];

/** Role-gated before any workspace is resolved (and not even listed to agents): refused alike for any workspace. */
const roleGatedWorkspaceTools = ['policy_set'];

/** Whose workspace is referenced, by whom, and how. */
const crossings: { label: string; caller: Tenant; reference: (e: Env) => string }[] = [
  { label: "globex with acme's shared-name id", caller: 'globex', reference: (e) => e.ids.acmeShared },
  { label: "globex with acme's acme-only id", caller: 'globex', reference: (e) => e.ids.acmeOnly },
  { label: "globex with acme's acme-only name", caller: 'globex', reference: () => 'acme-only' },
  { label: "globex with acme's adopted workspace id", caller: 'globex', reference: (e) => e.ids.acmeAdopted },
  { label: "globex with acme's adopted workspace name", caller: 'globex', reference: () => 'acme-adopted' },
  { label: "acme with globex's shared-name id", caller: 'acme', reference: (e) => e.ids.globexShared },
];

/** What an error answer says, with the workspace reference it echoes replaced by a placeholder. */
function shape(answer: ToolAnswer, reference: string) {
  const normalize = (text: string) => text.split(reference).join('<ref>');
  return {
    isError: answer.isError,
    code: answer.code,
    text: normalize(answer.text),
    structured: answer.structured,
    error: normalize(JSON.stringify(answer.meta?.['codebuddy/error'] ?? null)),
    metaKeys: Object.keys(answer.meta ?? {}).sort(),
  };
}

async function ok(client: McpClient, tool: string, args: Record<string, unknown>): Promise<ToolAnswer> {
  const answer = await client.call(tool, args);
  expect(answer.isError, `${tool} ${JSON.stringify(args)}: ${answer.text}`).toBe(false);
  return answer;
}

const names = (answer: ToolAnswer) => (answer.structured!['workspaces'] as { name: string }[]).map((w) => w.name);
const idsOf = (answer: ToolAnswer) => (answer.structured!['workspaces'] as { id: string }[]).map((w) => w.id);

/** A raw POST to /mcp: what a client with its own ideas about headers sends. */
function post(token: string | undefined, body: unknown, headers: Record<string, string> = {}, method = 'POST'): Promise<Response> {
  return fetch(env.server.url, {
    method,
    headers: {
      ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
      accept: 'application/json, text/event-stream',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...headers,
    },
    ...(method === 'POST' ? { body: JSON.stringify(body) } : {}),
  });
}

const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
const toolsCall = (name: string, args: Record<string, unknown>) => ({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: args } });

const key = new TextEncoder().encode(JWT_SECRET);
function jwt(claims: JWTPayload, options: { secret?: Uint8Array; expires?: number | string; alg?: string } = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setIssuedAt()
    .setExpirationTime(options.expires ?? '10m')
    .sign(options.secret ?? key);
}

async function expectUnauthenticated(response: Response): Promise<void> {
  const body = await response.text();
  expect(response.status, body).toBe(401);
  // Every 401 names the protected-resource metadata (issue 13, point 9; test/interop/oauth-discovery.test.ts).
  expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="codebuddy", resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource(\/mcp)?"$/);
  expect(JSON.parse(body)).toMatchObject({ error: { code: 'E_UNAUTHENTICATED' } });
}

describe('tenant isolation over HTTP', () => {
  beforeAll(async () => {
    const adoptRoot = realpathSync(tempDir('codebuddy-adoptable-'));
    const acmeProject = join(adoptRoot, 'acme-project');
    mkdirSync(join(acmeProject, 'sub'), { recursive: true });
    writeFileSync(join(acmeProject, 'hello.txt'), ACME_CONTENT);

    // The whole temp directory is adoptable too, so the data directory (where every tenant's
    // workspaces live) is protected by the server's own overlap check, not by the allowed roots.
    const server = await startTestServer({ jwtSecret: JWT_SECRET, allowedRoots: [adoptRoot, tmpdir()] });
    const tokens = { acme: server.token('acme', 'alice'), globex: server.token('globex', 'bob') };
    const clients = {} as Env['clients'];
    for (const era of eras) clients[era] = { acme: await connectHttp(era, server.url, tokens.acme), globex: await connectHttp(era, server.url, tokens.globex) };
    const acme = clients['2026-07-28'].acme;
    const globex = clients['2026-07-28'].globex;

    const acmeShared = await ok(acme, 'workspace_create', { name: 'shared-name' });
    const acmeOnly = await ok(acme, 'workspace_create', { name: 'acme-only' });
    const acmeAdopted = await ok(acme, 'workspace_create', { name: 'acme-adopted', path: acmeProject });
    const globexShared = await ok(globex, 'workspace_create', { name: 'shared-name' });
    for (const workspace of ['shared-name', 'acme-only']) await ok(acme, 'file_write', { path: 'hello.txt', content: ACME_CONTENT, workspace });
    await ok(globex, 'file_write', { path: 'hello.txt', content: GLOBEX_CONTENT, workspace: 'shared-name' });
    const note = (await ok(acme, 'note_create', { title: 'Acme plan', body: 'confidential\n- [ ] ship', workspace: 'shared-name' })).structured!['id'] as string;
    const other = (await ok(acme, 'note_create', { title: 'Acme other', workspace: 'shared-name' })).structured!['id'] as string;
    const notes = {
      note,
      link: (await ok(acme, 'note_link', { from: other, type: 'relates', note, workspace: 'shared-name' })).structured!['id'] as string,
      task: ((await ok(acme, 'task_list', { workspace: 'shared-name' })).structured!['tasks'] as { id: string }[])[0]!.id,
      artifact: (await ok(acme, 'artifact_add', { note, content: 'confidential', workspace: 'shared-name' })).structured!['id'] as string,
    };

    env = {
      server,
      tokens,
      clients,
      ids: {
        acmeShared: acmeShared.structured!['id'] as string,
        acmeOnly: acmeOnly.structured!['id'] as string,
        acmeAdopted: acmeAdopted.structured!['id'] as string,
        globexShared: globexShared.structured!['id'] as string,
      },
      roots: { acmeShared: acmeShared.structured!['root'] as string, globexShared: globexShared.structured!['root'] as string },
      adoptRoot,
      acmeProject,
      notes,
    };
  });

  afterAll(async () => {
    if (!env) return;
    await Promise.allSettled(eras.flatMap((era) => Object.values(env.clients[era]).map((client) => client.close())));
    await env.server.close();
    rmSync(env.adoptRoot, { recursive: true, force: true });
  });

  it('the matrix covers every tool that takes a workspace', async () => {
    const tools = await env.clients['2026-07-28'].acme.listTools();
    const taking = tools.filter((tool) => Object.keys((tool.inputSchema as { properties?: object }).properties ?? {}).includes('workspace')).map((tool) => tool.name);
    // The tools listed to an agent token; role-gated ones are tested on their own below.
    expect(workspaceTools.map((t) => t.tool).sort()).toEqual(taking.sort());
    expect(taking).not.toEqual(expect.arrayContaining(roleGatedWorkspaceTools));
    // Those that take none are covered on their own (audit_query filters by workspace_id: see below;
    // action_* name actions, whose isolation test/integration/approvals.test.ts covers; terminal_*
    // by id name a terminal, whose isolation test/integration/terminals.test.ts covers).
    expect(tools.map((tool) => tool.name).filter((name) => !taking.includes(name)).sort()).toEqual([
      'action_get',
      'action_list',
      'action_wait',
      'audit_query',
      'terminal_close',
      'terminal_read',
      'terminal_resize',
      'terminal_write',
      'workspace_create',
      'workspace_list',
    ]);
  });

  it.each(eras)('%s era: policy_set by an agent token is refused alike for a foreign and a missing workspace', async (era) => {
    const client = env.clients[era].globex;
    const crossed = await client.call('policy_set', { workspace: env.ids.acmeShared, preset: 'trusted' });
    const missing = await client.call('policy_set', { workspace: MADE_UP_ID, preset: 'trusted' });
    expect(crossed).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
    expect(crossed.text).toBe(missing.text);
  });

  it.each(eras)('%s era: audit_query filtered by another tenant’s workspace id answers like a made-up id', async (era) => {
    const client = env.clients[era].globex;
    const crossed = await client.call('audit_query', { workspace_id: env.ids.acmeShared });
    const missing = await client.call('audit_query', { workspace_id: MADE_UP_ID });
    expect(crossed).toMatchObject({ isError: false, text: 'no audit events match' });
    expect(crossed.structured).toEqual(missing.structured);
  });

  describe.each(eras)('%s era: another tenant’s workspace answers exactly like a missing one', (era) => {
    describe.each(crossings)('$label', ({ caller, reference }) => {
      it.each(workspaceTools)('$tool', async ({ tool, args }) => {
        const client = env.clients[era][caller];
        const ref = reference(env);
        const crossed = await client.call(tool, args(ref));
        const missing = await client.call(tool, args(MADE_UP_ID));
        expect(missing).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
        expect(missing.text).toBe(`E_NOT_FOUND: workspace ${MADE_UP_ID} not found`);
        expect(crossed).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
        expect(shape(crossed, ref)).toEqual(shape(missing, MADE_UP_ID));
      });
    });
  });

  it("after the matrix, every tenant's files and workspaces are exactly as they were", async () => {
    const acme = env.clients['2026-07-28'].acme;
    const globex = env.clients['2026-07-28'].globex;
    for (const workspace of ['shared-name', 'acme-only', 'acme-adopted']) {
      const read = await ok(acme, 'file_read', { path: 'hello.txt', workspace });
      expect(read.structured).toMatchObject({ content: ACME_CONTENT.trimEnd() });
      const listed = await ok(acme, 'file_list', { workspace });
      expect((listed.structured!['entries'] as { path: string }[]).map((e) => e.path).filter((p) => p !== 'sub')).toEqual(['hello.txt']);
    }
    expect((await ok(globex, 'file_read', { path: 'hello.txt', workspace: 'shared-name' })).structured).toMatchObject({ content: GLOBEX_CONTENT.trimEnd() });
    expect(readdirSync(env.roots.globexShared)).toEqual(['hello.txt']);
    expect(readdirSync(env.roots.acmeShared)).toEqual(['hello.txt']);
    expect(readFileSync(join(env.acmeProject, 'hello.txt'), 'utf8')).toBe(ACME_CONTENT);
    expect((await ok(acme, 'note_get', { id: env.notes.note, workspace: 'shared-name' })).structured).toMatchObject({
      version: 1,
      body: 'confidential\n- [ ] ship',
      backlinks: [{ id: env.notes.link }],
      tasks: [{ id: env.notes.task, status: 'open' }],
      artifacts: [{ id: env.notes.artifact }],
    });
    expect((await ok(acme, 'note_list', { workspace: 'shared-name' })).structured!['notes']).toHaveLength(2);
  });

  it.each(eras)('%s era: the same name resolves to each tenant’s own workspace', async (era) => {
    const acme = env.clients[era].acme;
    const globex = env.clients[era].globex;
    const acmeGet = await ok(acme, 'workspace_get', { workspace: 'shared-name' });
    const globexGet = await ok(globex, 'workspace_get', { workspace: 'shared-name' });
    expect(acmeGet.structured).toMatchObject({ id: env.ids.acmeShared, name: 'shared-name' });
    expect(globexGet.structured).toMatchObject({ id: env.ids.globexShared, name: 'shared-name' });
    expect(acmeGet.structured!['root']).not.toBe(globexGet.structured!['root']);

    const name = `from-acme-${era}.txt`;
    await ok(acme, 'file_write', { path: name, content: 'written by acme\n', workspace: 'shared-name' });
    const inGlobex = await globex.call('file_read', { path: name, workspace: 'shared-name' });
    expect(inGlobex).toMatchObject({ isError: true, code: 'E_NOT_FOUND', text: `E_NOT_FOUND: ${name} not found` });
    expect((await ok(globex, 'file_glob', { pattern: 'from-acme-*', workspace: 'shared-name' })).structured!['paths']).toEqual([]);
    expect((await ok(globex, 'file_search', { pattern: 'written by acme', workspace: 'shared-name' })).structured!['total']).toBe(0);
    expect((await ok(globex, 'file_read', { path: 'hello.txt', workspace: 'shared-name' })).structured!['content']).toBe(GLOBEX_CONTENT.trimEnd());
    expect((await ok(acme, 'file_read', { path: 'hello.txt', workspace: 'shared-name' })).structured!['content']).toBe(ACME_CONTENT.trimEnd());
    await ok(acme, 'file_delete', { path: name, workspace: 'shared-name' });
  });

  it.each(eras)('%s era: workspace_list shows only the caller’s own workspaces', async (era) => {
    const acmeList = await ok(env.clients[era].acme, 'workspace_list', {});
    const globexList = await ok(env.clients[era].globex, 'workspace_list', {});
    expect(names(acmeList)).toEqual(['acme-adopted', 'acme-only', 'shared-name']);
    expect(idsOf(acmeList).sort()).toEqual([env.ids.acmeAdopted, env.ids.acmeOnly, env.ids.acmeShared].sort());
    expect(names(globexList)).toEqual(['shared-name']);
    expect(idsOf(globexList)).toEqual([env.ids.globexShared]);
    for (const id of Object.values(env.ids).filter((id) => id !== env.ids.globexShared)) expect(globexList.text).not.toContain(id);
    expect(globexList.text).not.toContain(env.acmeProject);
    // A hand-made cursor does not page into another tenant either.
    const cursor = Buffer.from(JSON.stringify({ k: 'workspace_list', after: '' })).toString('base64url');
    expect(names(await ok(env.clients[era].globex, 'workspace_list', { cursor }))).toEqual(['shared-name']);
  });

  it('a name taken in another tenant is free in this one: creating it reveals nothing', async () => {
    const globex = env.clients['2026-07-28'].globex;
    const created = await ok(globex, 'workspace_create', { name: 'acme-only' });
    expect(created.structured!['id']).not.toBe(env.ids.acmeOnly);
    expect((await globex.call('file_read', { path: 'hello.txt', workspace: 'acme-only' })).code).toBe('E_NOT_FOUND');
    await ok(globex, 'workspace_delete', { workspace: 'acme-only' });
    expect((await ok(env.clients['2026-07-28'].acme, 'workspace_get', { workspace: 'acme-only' })).structured!['id']).toBe(env.ids.acmeOnly);
  });

  it("globex cannot adopt acme's directories: the adopted one, its parent or a child, by any spelling, nor the data directory", async () => {
    const globex = env.clients['2026-07-28'].globex;
    symlinkSync(env.acmeProject, join(env.adoptRoot, 'alias-to-acme'));
    const attempts = [
      env.acmeProject,
      `${env.acmeProject}/`,
      join(env.acmeProject, 'sub'),
      env.adoptRoot,
      join(env.adoptRoot, 'alias-to-acme'),
      `${env.adoptRoot}/acme-project/../acme-project`,
      env.roots.acmeShared,
      join(env.roots.acmeShared, '.'),
      dirname(env.roots.acmeShared), // <dataDir>/workspaces/acme
      dirname(dirname(env.roots.acmeShared)), // <dataDir>/workspaces
      env.server.dataDir,
      tmpdir(), // an allowed root that contains the data directory
    ];
    for (const [index, path] of attempts.entries()) {
      const answer = await globex.call('workspace_create', { name: `grab-${index}`, path });
      expect(answer.isError, `${path}: ${answer.text}`).toBe(true);
      expect(['E_CONFLICT', 'E_FORBIDDEN'], `${path}: ${answer.text}`).toContain(answer.code);
      for (const secret of [...Object.values(env.ids), 'acme-adopted', 'acme-only', 'alice']) expect(answer.text).not.toContain(secret);
    }
    expect(names(await ok(globex, 'workspace_list', {}))).toEqual(['shared-name']);
    // Control: a fresh directory under the allowed root can be adopted, so the refusals above are about acme's.
    mkdirSync(join(env.adoptRoot, 'globex-project'));
    const adopted = await ok(globex, 'workspace_create', { name: 'globex-adopted', path: join(env.adoptRoot, 'globex-project') });
    expect(adopted.structured).toMatchObject({ adopted: true });
    await ok(globex, 'workspace_delete', { workspace: 'globex-adopted' });
  });

  describe('2025-era sessions belong to the principal that opened them', () => {
    let transport: LegacyHttpTransport;
    let client: LegacyClient;
    let sessionId: string;
    const sessionHeaders = () => ({ 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' });
    const hijack = toolsCall('file_write', { path: 'hijacked.txt', content: 'hijacked\n', workspace: 'shared-name' });

    beforeAll(async () => {
      transport = new LegacyHttpTransport(env.server.url, { requestInit: { headers: { Authorization: `Bearer ${env.tokens.acme}` } } });
      client = new LegacyClient({ name: 'session-owner', version: '1.0.0' });
      await client.connect(transport);
      sessionId = transport.sessionId!;
    });

    afterAll(async () => {
      await client?.close();
    });

    it("control: the session answers its owner's raw requests", async () => {
      expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
      const response = await post(env.tokens.acme, toolsCall('workspace_list', {}), sessionHeaders());
      expect(response.status).toBe(200);
      const body = await response.text();
      expect(body).toContain('acme-only');
      expect(body).toContain(env.ids.acmeShared);
    });

    it.each([
      { label: "globex's API token", token: () => env.tokens.globex },
      { label: 'another user of acme', token: () => env.server.token('acme', 'mallory') },
      { label: 'a JWT of tenant globex', token: () => jwt({ sub: 'bob', tenant: 'globex' }) },
      { label: 'a JWT of tenant acme but another user', token: () => jwt({ sub: 'mallory', tenant: 'acme' }) },
    ])("$label presenting acme's session id gets 404, and nothing runs", async ({ token }) => {
      const credential = await token();
      for (const [method, body] of [
        ['POST', hijack],
        ['GET', undefined],
        ['DELETE', undefined],
      ] as const) {
        const response = await post(credential, body, sessionHeaders(), method);
        const text = await response.text();
        expect(response.status, `${method}: ${text}`).toBe(404);
        expect(text).not.toContain('acme-only');
      }
      expect(readdirSync(env.roots.acmeShared)).not.toContain('hijacked.txt');
      // The owner's session survived the foreign DELETE.
      const still = await client.callTool({ name: 'file_read', arguments: { path: 'hello.txt', workspace: 'shared-name' } });
      expect(still.isError ?? false).toBe(false);
      expect(JSON.stringify(still.structuredContent)).toContain('acme confidential');
    });
  });

  describe('credentials: anything but a valid token or JWT gets 401', () => {
    it.each([
      { label: 'no Authorization header', authorization: undefined },
      { label: 'an empty bearer', authorization: 'Bearer ' },
      { label: 'a garbage token', authorization: 'Bearer garbage' },
      { label: 'another scheme', authorization: 'Basic YWNtZTpzZWNyZXQ=' },
      { label: 'a token of the right shape with a wrong secret', authorization: () => `Bearer ${env.tokens.acme.slice(0, -43)}${'A'.repeat(43)}` },
      { label: 'a token of the right shape with an unknown id', authorization: () => `Bearer cb_tok_${'0'.repeat(26)}_${env.tokens.acme.slice(-43)}` },
      { label: 'a valid token with extra characters', authorization: () => `Bearer ${env.tokens.acme}x` },
      { label: 'two tokens', authorization: () => `Bearer ${env.tokens.acme} ${env.tokens.globex}` },
    ])('$label', async ({ authorization }) => {
      const value = typeof authorization === 'function' ? authorization() : authorization;
      const headers: Record<string, string> = value === undefined ? {} : { authorization: value };
      for (const body of [initialize, toolsCall('workspace_list', {})]) {
        const response = await fetch(env.server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
          body: JSON.stringify(body),
        });
        await expectUnauthenticated(response);
      }
      for (const method of ['GET', 'DELETE']) {
        await expectUnauthenticated(await fetch(env.server.url, { method, headers: { accept: 'text/event-stream', ...headers } }));
      }
    });

    it('control: the same raw request with a valid token is not refused', async () => {
      const response = await post(env.tokens.acme, initialize);
      expect(response.status).toBe(200);
      await response.body?.cancel();
    });
  });

  describe('JWT principals land in the tenant their claim names', () => {
    it.each(eras)('%s era: an acme JWT sees the workspaces acme’s API-token user made; a globex JWT does not', async (era) => {
      const acmeJwt = await connectHttp(era, env.server.url, await jwt({ sub: 'jwt-alice', tenant: 'acme', role: 'agent' }));
      const globexJwt = await connectHttp(era, env.server.url, await jwt({ sub: 'jwt-bob', tenant: 'globex' }));
      try {
        expect(names(await ok(acmeJwt, 'workspace_list', {}))).toEqual(['acme-adopted', 'acme-only', 'shared-name']);
        expect((await ok(acmeJwt, 'file_read', { path: 'hello.txt', workspace: env.ids.acmeOnly })).structured!['content']).toBe(ACME_CONTENT.trimEnd());
        expect((await ok(acmeJwt, 'workspace_get', { workspace: 'shared-name' })).structured!['id']).toBe(env.ids.acmeShared);

        expect(names(await ok(globexJwt, 'workspace_list', {}))).toEqual(['shared-name']);
        expect((await ok(globexJwt, 'workspace_get', { workspace: 'shared-name' })).structured!['id']).toBe(env.ids.globexShared);
        for (const reference of [env.ids.acmeOnly, 'acme-only', env.ids.acmeShared]) {
          const crossed = await globexJwt.call('file_read', { path: 'hello.txt', workspace: reference });
          const missing = await globexJwt.call('file_read', { path: 'hello.txt', workspace: MADE_UP_ID });
          expect(crossed.code).toBe('E_NOT_FOUND');
          expect(shape(crossed, reference)).toEqual(shape(missing, MADE_UP_ID));
        }
      } finally {
        await acmeJwt.close();
        await globexJwt.close();
      }
    });

    it.each([
      { label: 'a bad signature', token: () => jwt({ sub: 'jwt-alice', tenant: 'acme' }, { secret: new TextEncoder().encode('a-completely-different-secret-of-32+chars') }) },
      { label: 'an expired token', token: () => jwt({ sub: 'jwt-alice', tenant: 'acme' }, { expires: Math.floor(Date.now() / 1000) - 120 }) },
      { label: 'no tenant claim', token: () => jwt({ sub: 'jwt-alice' }) },
      { label: 'no sub claim', token: () => jwt({ tenant: 'acme' }) },
      { label: 'a tenant claim that is not a tenant id (../acme)', token: () => jwt({ sub: 'jwt-alice', tenant: '../acme' }) },
      { label: 'a tenant claim of the wrong type', token: () => jwt({ sub: 'jwt-alice', tenant: ['acme'] }) },
      { label: 'an unknown role', token: () => jwt({ sub: 'jwt-alice', tenant: 'acme', role: 'root' }) },
      { label: 'HS512 instead of HS256', token: () => jwt({ sub: 'jwt-alice', tenant: 'acme' }, { alg: 'HS512' }) },
      { label: 'an unsigned token (alg none)', token: async () => new UnsecuredJWT({ sub: 'jwt-alice', tenant: 'acme' }).setIssuedAt().setExpirationTime('10m').encode() },
      { label: 'no expiry (it would be valid forever)', token: () => new SignJWT({ sub: 'jwt-alice', tenant: 'acme' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().sign(key) },
      { label: 'a valid JWT with its signature cut off', token: async () => (await jwt({ sub: 'jwt-alice', tenant: 'acme' })).replace(/\.[^.]+$/, '.') },
    ])('a JWT with $label gets 401', async ({ token }) => {
      const credential = await token();
      await expectUnauthenticated(await post(credential, initialize));
      await expectUnauthenticated(await post(credential, toolsCall('workspace_list', {})));
    });

    it('control: a well-formed JWT on the same raw request is accepted', async () => {
      const response = await post(await jwt({ sub: 'jwt-alice', tenant: 'acme' }), initialize);
      expect(response.status).toBe(200);
      await response.body?.cancel();
    });
  });
});
