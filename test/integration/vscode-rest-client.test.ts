import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSystemErrorOf } from '../../clients/vscode/src/file-system-errors.js';
import { RestPendingActions } from '../../clients/vscode/src/pending-actions.js';
import { RestClient, RestError } from '../../clients/vscode/src/rest-client.js';
import { StatPoller } from '../../clients/vscode/src/stat-poller.js';
import { statSignature, WorkspaceFiles } from '../../clients/vscode/src/workspace-files.js';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/*
 * The VS Code extension's REST client (clients/vscode/src, no `vscode` import) against a real
 * CodeBuddy server over HTTP: `POST /api/ops/{operation}`, 200 / 202 pending / {error}. What
 * the extension's codebuddy: file system and Pending actions view do, minus VS Code itself
 * (which cannot be downloaded here).
 */

const MAX_FILE_BYTES = 64 * 1024;
// Not UTF-8: a NUL, 0xff, a lone continuation byte; a text round trip would mangle these.
const BYTES = new Uint8Array([0, 255, 254, 10, 0xc3, 0x28, 0x80, ...Buffer.from('héllo\r\n')]);

/** What a REST call threw, as code, status and the VS Code file-system error it becomes. */
async function refusal(call: Promise<unknown>): Promise<{ status: number; code: string; kind: string }> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof RestError)) throw new Error(`expected a RestError, got ${String(error)}`);
  return { status: error.status, code: error.code, kind: fileSystemErrorOf(error).kind };
}

describe('the VS Code extension over REST, against a real server', () => {
  let server: TestServer;
  let agent: McpClient;
  let approver: McpClient;
  let agentToken: string;
  let approverToken: string;
  let root: string;
  let reviewedRoot: string;
  const client = (token: string | undefined, serverUrl = server.url.href) => new RestClient({ serverUrl, token: async () => token, fetch: (url, init) => fetch(url, init) });
  const files = (workspace = 'main', token = agentToken) => new WorkspaceFiles(client(token), workspace);

  beforeAll(async () => {
    server = await startTestServer({ listPageSize: 3, maxFileBytes: MAX_FILE_BYTES });
    agentToken = server.token('acme', 'bot', 'agent');
    approverToken = server.token('acme', 'ana', 'approver');
    agent = await connectModernHttp(server.url, agentToken);
    approver = await connectModernHttp(server.url, approverToken);
    root = (await agent.call('workspace_create', { name: 'main' })).structured!.root as string;
    reviewedRoot = (await agent.call('workspace_create', { name: 'reviewed' })).structured!.root as string;
    writeFileSync(join(reviewedRoot, 'app.ts'), 'export const mode = "dev";\n');
    expect((await approver.call('policy_set', { workspace: 'reviewed', preset: 'review-writes' })).isError).toBe(false);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([agent?.close(), approver?.close()]);
    await server?.close();
  });

  it('writes and reads bytes for bytes (base64), and stats files and the root', async () => {
    expect(await files().write('bin/data.bin', BYTES)).toEqual({
      held: false,
      output: { path: 'bin/data.bin', sha256: createHash('sha256').update(BYTES).digest('hex'), size: BYTES.length, created: true },
    });
    expect(new Uint8Array(readFileSync(join(root, 'bin/data.bin')))).toEqual(BYTES);
    expect(await files().read('bin/data.bin')).toEqual(BYTES);
    expect(await files().stat('bin/data.bin')).toMatchObject({ path: 'bin/data.bin', type: 'file', size: BYTES.length, sha256: createHash('sha256').update(BYTES).digest('hex') });
    expect(await files().stat('')).toMatchObject({ path: '', type: 'directory' });
    expect(await files().read('bin/missing.bin').catch((error: unknown) => fileSystemErrorOf(error))).toEqual({ kind: 'FileNotFound', message: expect.stringMatching(/^E_NOT_FOUND: /) });
  });

  it('lists a directory in full across pages, direct children only', async () => {
    for (const name of ['e', 'a', 'd', 'b', 'c']) writeFileSync(join(root, `list-${name}.txt`), name);
    writeFileSync(join(root, '.gitignore'), 'ignored.txt\n');
    writeFileSync(join(root, 'ignored.txt'), 'x');
    const entries = await files().list('');
    expect(entries.map((entry) => entry.path)).toEqual(['.gitignore', 'bin', 'list-a.txt', 'list-b.txt', 'list-c.txt', 'list-d.txt', 'list-e.txt']);
    expect(entries.find((entry) => entry.path === 'bin')).toEqual({ path: 'bin', type: 'directory' });
    expect(entries.find((entry) => entry.path === 'list-a.txt')).toEqual({ path: 'list-a.txt', type: 'file', size: 1 });
    expect(await files().list('bin')).toEqual([{ path: 'bin/data.bin', type: 'file', size: BYTES.length }]);
  });

  it('moves (refusing to overwrite unless asked) and deletes', async () => {
    await files().write('bin/other.bin', new Uint8Array([1]));
    expect(await refusal(files().move('bin/data.bin', 'bin/other.bin', false))).toEqual({ status: 409, code: 'E_CONFLICT', kind: 'FileExists' });
    expect(await files().move('bin/data.bin', 'moved.bin', false)).toEqual({ held: false, output: { from: 'bin/data.bin', to: 'moved.bin' } });
    expect(await files().read('moved.bin')).toEqual(BYTES);
    expect(await files().delete('bin', true)).toEqual({ held: false, output: { path: 'bin', type: 'directory' } });
    expect(await refusal(files().stat('bin'))).toEqual({ status: 404, code: 'E_NOT_FOUND', kind: 'FileNotFound' });
    expect(await statSignature(files(), 'bin')).toBeUndefined();
  });

  it('refuses without a valid token, outside the workspace, across tenants and past the size limit, with stable codes', async () => {
    expect(await refusal(new WorkspaceFiles(client(undefined), 'main').stat('moved.bin'))).toEqual({ status: 401, code: 'E_UNAUTHENTICATED', kind: 'NoPermissions' });
    expect(await refusal(new WorkspaceFiles(client('cb_not-a-token'), 'main').stat('moved.bin'))).toEqual({ status: 401, code: 'E_UNAUTHENTICATED', kind: 'NoPermissions' });
    expect(await refusal(files().read('../../etc/passwd'))).toEqual({ status: 400, code: 'E_PATH_OUTSIDE_WORKSPACE', kind: 'NoPermissions' });
    // Another tenant's workspace, by name or by id, is a missing one.
    const outsider = server.token('globex', 'eve', 'admin');
    const id = server.app.workspaces.resolve({ tenantId: 'acme', userId: 'bot', role: 'agent' }, 'main').id;
    for (const workspace of ['main', id]) expect(await refusal(files(workspace, outsider).stat('moved.bin'))).toEqual({ status: 404, code: 'E_NOT_FOUND', kind: 'FileNotFound' });
    expect(await refusal(files().write('big.bin', new Uint8Array(MAX_FILE_BYTES + 1)))).toEqual({ status: 413, code: 'E_TOO_LARGE', kind: 'Unknown' });
    expect(() => readFileSync(join(root, 'big.bin'))).toThrow(/ENOENT/);
  });

  it('tells a server that does not answer as unavailable', async () => {
    const address = server.url.href;
    const closed = await startTestServer();
    const gone = closed.url.href;
    await closed.close();
    expect(await refusal(new WorkspaceFiles(client(agentToken, gone), 'main').stat('x'))).toEqual({ status: 0, code: 'E_NETWORK', kind: 'Unavailable' });
    expect(address).not.toBe(gone);
  });

  it('reports a held write as pending (not failed), and decides it through the pending actions', async () => {
    const reviewed = files('reviewed');
    const held = await reviewed.write('app.ts', new TextEncoder().encode('export const mode = "prod";\n'));
    expect(held).toMatchObject({ held: true, pending: { status: 'pending_approval', action_id: expect.stringMatching(/^act_/) } });
    if (!held.held) throw new Error('not held');
    expect(held.pending.preview).toContain('-export const mode = "dev";\n+export const mode = "prod";');
    expect(Date.parse(held.pending.expires_at)).toBeGreaterThan(Date.now());
    expect(readFileSync(join(reviewedRoot, 'app.ts'), 'utf8')).toBe('export const mode = "dev";\n');

    const asAgent = new RestPendingActions(client(agentToken));
    const asApprover = new RestPendingActions(client(approverToken));
    expect((await asAgent.list()).map((action) => action.id)).toContain(held.pending.action_id);
    expect(await asApprover.get(held.pending.action_id)).toMatchObject({ id: held.pending.action_id, operation: 'file_write', status: 'proposed', preview: held.pending.preview });
    expect(await refusal(asAgent.approve(held.pending.action_id))).toEqual({ status: 403, code: 'E_FORBIDDEN', kind: 'NoPermissions' });
    expect(await asApprover.approve(held.pending.action_id, 'ship it')).toMatchObject({ status: 'applied', decided_by: 'acme/ana', reason: 'ship it' });
    expect(readFileSync(join(reviewedRoot, 'app.ts'), 'utf8')).toBe('export const mode = "prod";\n');

    const deletion = await reviewed.delete('app.ts', false);
    if (!deletion.held) throw new Error('the delete was not held');
    expect(await asApprover.reject(deletion.pending.action_id, 'keep it')).toMatchObject({ status: 'rejected', done: true, reason: 'keep it' });
    expect((await asApprover.list()).map((action) => action.id)).not.toContain(deletion.pending.action_id);
    expect(readFileSync(join(reviewedRoot, 'app.ts'), 'utf8')).toBe('export const mode = "prod";\n');
  });

  it('sees a watched file change, appear and go by polling file_stat', async () => {
    const seen: { key: string; type: string }[][] = [];
    const poller = new StatPoller({ intervalMs: 3_600_000, signature: (key) => statSignature(files(), key), onChanges: (changes) => seen.push(changes) });
    writeFileSync(join(root, 'watched.txt'), 'one');
    poller.watch('watched.txt');
    poller.watch('later.txt');
    expect(await poller.poll()).toEqual([]);
    writeFileSync(join(root, 'watched.txt'), 'two'); // same size: the hash tells
    writeFileSync(join(root, 'later.txt'), 'new');
    expect(await poller.poll()).toEqual([
      { key: 'watched.txt', type: 'changed' },
      { key: 'later.txt', type: 'created' },
    ]);
    rmSync(join(root, 'watched.txt'));
    expect(await poller.poll()).toEqual([{ key: 'watched.txt', type: 'deleted' }]);
    expect(seen).toHaveLength(2);
    poller.dispose();
  });
});
