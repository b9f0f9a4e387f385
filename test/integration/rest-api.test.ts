/**
 * The REST face over real HTTP: its OpenAPI 3.1 document (checked by a maintained
 * validator, and against the registry), the contract a VS Code FileSystemProvider is written
 * against (`POST /api/ops/<name>`, 200 / 202 / the error shape, the headers), binary files
 * through `encoding: 'base64'`, held writes approved over REST, idempotency keys, exec and
 * its cancellation, and the bodies a hostile client sends.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputFromStrings } from '../../src/faces/http/query-input.js';
import { restEndpoints } from '../../src/faces/http/rest-endpoints.js';
import { publishedJsonSchema } from '../../src/operations/json-schema.js';
import { canBeHeld } from '../../src/operations/registry.js';
import { processesWith } from '../helpers/process-table.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const MAX_FILE_BYTES = 64 * 1024;
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, any>;
}

type Json = Record<string, any>;

describe('REST face', () => {
  let server: TestServer;
  let agent: string;
  let approver: string;
  let root: string;

  async function call(token: string | undefined, name: string, input?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const response = await fetch(new URL(`/api/ops/${name}`, server.url), {
      method: 'POST',
      headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(input === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(input === undefined ? {} : { body: JSON.stringify(input) }),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Json };
  }

  async function ok(name: string, input: Record<string, unknown>, token = agent): Promise<Json> {
    const answer = await call(token, name, input);
    expect(answer.status, `${name}: ${JSON.stringify(answer.body).slice(0, 300)}`).toBe(200);
    return answer.body;
  }

  async function openApi(token = agent): Promise<Json> {
    const response = await fetch(new URL('/openapi.json', server.url), { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    return (await response.json()) as Json;
  }

  beforeAll(async () => {
    server = await startTestServer({ maxFileBytes: MAX_FILE_BYTES });
    agent = server.token('acme', 'bot', 'agent');
    approver = server.token('acme', 'ana', 'approver');
    root = (await ok('workspace_create', { name: 'main' })).root as string;
    await ok('workspace_create', { name: 'reviewed' });
    await ok('policy_set', { workspace: 'reviewed', preset: 'review-writes' }, approver);
  });

  afterAll(async () => server?.close());

  describe('GET /openapi.json', () => {
    it('is a valid OpenAPI 3.1 document listing every registry operation exactly once at /api/ops/{name}, with its schemas', async () => {
      const document = await openApi();
      const validator = new Validator();
      // The validator works on (and resolving refs rewrites) its own copy.
      const verdict = await validator.validate(structuredClone(document));
      expect(verdict.errors).toBeUndefined();
      expect(verdict.valid).toBe(true);
      expect(validator.version).toBe('3.1');
      // Every $ref resolves.
      expect(() => validator.resolveRefs()).not.toThrow();

      const descriptors = server.app.registry.list();
      const names = descriptors.map((descriptor) => descriptor.operation.name).sort();
      const opsPaths = Object.keys(document.paths).filter((path) => path.startsWith('/api/ops/'));
      expect(opsPaths.sort()).toEqual(names.map((name) => `/api/ops/${name}`));
      const operationIds = Object.values(document.paths as Record<string, Json>).flatMap((item) => Object.values(item).map((operation: Json) => operation.operationId as string));
      expect(new Set(operationIds).size).toBe(operationIds.length);

      for (const { operation, input } of descriptors) {
        const item = document.paths[`/api/ops/${operation.name}`] as Json;
        expect(Object.keys(item), operation.name).toEqual(['post']);
        const post = item.post as Json;
        expect(post.operationId).toBe(operation.name);
        expect(post.summary).toBe(operation.title);
        const request = post.requestBody.content['application/json'].schema as Json;
        // The same schema the MCP tool list shows.
        expect(request, operation.name).toEqual(publishedJsonSchema(input, 'input'));
        expect(Object.keys(request.properties ?? {}).sort()).toEqual(Object.keys(input.shape).sort());
        expect(post.requestBody.required).toBe((request.required ?? []).length > 0);
        expect(post.responses['200'].content['application/json'].schema, operation.name).toEqual(publishedJsonSchema(operation.output, 'output'));
        expect('202' in post.responses, operation.name).toBe(canBeHeld(operation));
        for (const status of ['400', '401', '403', '404', '413', '429', 'default']) expect(post.responses[status], `${operation.name} ${status}`).toBeDefined();
        const takesKey = (post.parameters ?? []).some((parameter: Json) => parameter.$ref === '#/components/parameters/IdempotencyKey');
        expect(takesKey, operation.name).toBe(operation.effect !== 'read');
        expect(post['x-codebuddy-roles']).toEqual(operation.roles);
      }
      expect(document.components.schemas.PendingApproval.properties.status).toEqual({ const: 'pending_approval' });
    });

    it('lists each declared resource route too: path fields as path parameters, the rest as query parameters (GET) or body (POST)', async () => {
      const document = await openApi();
      const declared = server.app.registry.list().filter(({ operation }) => operation.rest);
      expect(declared.map(({ operation }) => `${operation.rest!.method} ${operation.rest!.path}`).sort()).toEqual([
        'GET /api/actions',
        'GET /api/actions/{id}',
        'GET /api/audit',
        'GET /api/notes',
        'GET /api/notes/search',
        'GET /api/notes/{id}',
        'GET /api/tasks',
        'POST /api/actions/{id}/approve',
        'POST /api/actions/{id}/reject',
        'POST /api/notes',
        'POST /api/notes/{id}',
      ]);
      for (const { operation, input } of declared) {
        const route = document.paths[operation.rest!.path][operation.rest!.method.toLowerCase()] as Json;
        expect(route.operationId).toBe(`${operation.name}.route`);
        const pathFields = [...operation.rest!.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
        const parameters = (route.parameters ?? []).filter((parameter: Json) => parameter.in !== undefined);
        expect(parameters.filter((parameter: Json) => parameter.in === 'path').map((parameter: Json) => parameter.name)).toEqual(pathFields);
        const others = Object.keys(input.shape).filter((field) => !pathFields.includes(field)).sort();
        if (operation.rest!.method === 'GET') {
          expect(route.requestBody).toBeUndefined();
          expect(parameters.filter((parameter: Json) => parameter.in === 'query').map((parameter: Json) => parameter.name).sort()).toEqual(others);
        } else {
          expect(Object.keys(route.requestBody.content['application/json'].schema.properties).sort()).toEqual(others);
        }
      }
    });

    it('is served like every route: a token is needed, any role may read it, and Origin is checked alike', async () => {
      const refused = await fetch(new URL('/openapi.json', server.url));
      expect(refused.status).toBe(401);
      expect(await refused.json()).toMatchObject({ error: { code: 'E_UNAUTHENTICATED' } });
      expect(await openApi(approver)).toEqual(await openApi(agent));
      const url = new URL('/openapi.json', server.url);
      const foreign = await rawRequest(url, { headers: { authorization: `Bearer ${agent}`, origin: 'http://evil.example' } });
      expect(foreign.status).toBe(403);
      expect(JSON.parse(foreign.text)).toMatchObject({ error: { code: 'E_FORBIDDEN' } });
      const own = await rawRequest(url, { headers: { authorization: `Bearer ${agent}`, origin: `http://127.0.0.1:${server.url.port}` } });
      expect(own.status).toBe(200);
    });
  });

  describe('files', () => {
    it('file_write and file_read round-trip text, with the correlation and action ids in headers', async () => {
      const content = 'first line\nsecond line\n';
      const written = await call(agent, 'file_write', { workspace: 'main', path: 'docs/notes.txt', content }, { 'x-correlation-id': 'rest-write-1' });
      expect(written.status).toBe(200);
      expect(written.body).toEqual({ path: 'docs/notes.txt', sha256: sha256(content), size: content.length, created: true });
      expect(written.headers.get('x-correlation-id')).toBe('rest-write-1');
      const actionId = written.headers.get('x-action-id');
      expect(actionId).toMatch(/^act_/);
      expect(server.app.db.prepare('SELECT operation, status, correlation_id FROM actions WHERE id = ?').get(actionId)).toEqual({ operation: 'file_write', status: 'succeeded', correlation_id: 'rest-write-1' });
      expect(readFileSync(join(root, 'docs/notes.txt'), 'utf8')).toBe(content);

      const read = await ok('file_read', { workspace: 'main', path: 'docs/notes.txt' });
      expect(read).toEqual({ path: 'docs/notes.txt', size: content.length, sha256: sha256(content), binary: false, total_lines: 2, start_line: 1, end_line: 2, content: 'first line\nsecond line' });
    });

    it("encoding base64 round-trips random binary bytes, and gives a text file's exact bytes", async () => {
      const bytes = Buffer.concat([Buffer.from([0, 0xff, 0xfe, 0]), randomBytes(40_000)]);
      const written = await ok('file_write', { workspace: 'main', path: 'bin/blob.dat', content: bytes.toString('base64'), encoding: 'base64' });
      expect(written).toEqual({ path: 'bin/blob.dat', sha256: sha256(bytes), size: bytes.length, created: true });
      expect(readFileSync(join(root, 'bin/blob.dat')).equals(bytes)).toBe(true);

      const read = await ok('file_read', { workspace: 'main', path: 'bin/blob.dat', encoding: 'base64' });
      expect(read).toEqual({ path: 'bin/blob.dat', size: bytes.length, sha256: sha256(bytes), binary: true, content: bytes.toString('base64') });
      expect(Buffer.from(read.content as string, 'base64').equals(bytes)).toBe(true);
      // Without the encoding, a binary file answers its metadata only, as before.
      expect(await ok('file_read', { workspace: 'main', path: 'bin/blob.dat' })).toEqual({ path: 'bin/blob.dat', size: bytes.length, sha256: sha256(bytes), binary: true });

      // CRLF and a missing last newline survive, which numbered lines cannot show.
      const text = Buffer.from('a\r\nb\r\nno newline at end', 'utf8');
      writeFileSync(join(root, 'crlf.txt'), text);
      expect(await ok('file_read', { workspace: 'main', path: 'crlf.txt', encoding: 'base64' })).toEqual({ path: 'crlf.txt', size: text.length, sha256: sha256(text), binary: false, content: text.toString('base64') });
      // An empty file is an empty string.
      expect(await ok('file_write', { workspace: 'main', path: 'empty.bin', content: '', encoding: 'base64' })).toMatchObject({ size: 0, created: true });
      expect((await ok('file_read', { workspace: 'main', path: 'empty.bin', encoding: 'base64' })).content).toBe('');
    });

    it('refuses what is not base64, paging with base64, and content over the limit, writing nothing', async () => {
      for (const content of ['not base64!', 'QUJD RA==', 'QUJDRA', 'QUJDRA=', 'QR==']) {
        const answer = await call(agent, 'file_write', { workspace: 'main', path: 'never.bin', content, encoding: 'base64' });
        expect({ content, ...answer.body }).toEqual({ content, error: { code: 'E_INVALID_ARGUMENT', message: 'content is not base64 (standard alphabet, padded)', field: 'content' } });
        expect(answer.status).toBe(400);
      }
      expect(existsSync(join(root, 'never.bin'))).toBe(false);
      const unknownEncoding = await call(agent, 'file_write', { workspace: 'main', path: 'never.bin', content: 'QUJD', encoding: 'hex' });
      expect(unknownEncoding).toMatchObject({ status: 400, body: { error: { code: 'E_INVALID_ARGUMENT', field: 'encoding' } } });

      for (const paging of [{ offset_line: 2 }, { limit_lines: 5 }, { cursor: 'abc' }]) {
        const field = Object.keys(paging)[0]!;
        const answer = await call(agent, 'file_read', { workspace: 'main', path: 'docs/notes.txt', encoding: 'base64', ...paging });
        expect(answer).toMatchObject({ status: 400, body: { error: { code: 'E_INVALID_ARGUMENT', field, message: `${field} pages lines; encoding base64 answers the whole file` } } });
      }

      const over = randomBytes(MAX_FILE_BYTES + 1);
      const tooLarge = await call(agent, 'file_write', { workspace: 'main', path: 'huge.bin', content: over.toString('base64'), encoding: 'base64' });
      expect(tooLarge).toMatchObject({ status: 413, body: { error: { code: 'E_TOO_LARGE', field: 'content' } } });
      expect(existsSync(join(root, 'huge.bin'))).toBe(false);
      // At the limit exactly: written, and read back whole.
      const full = randomBytes(MAX_FILE_BYTES);
      await ok('file_write', { workspace: 'main', path: 'full.bin', content: full.toString('base64'), encoding: 'base64' });
      expect(Buffer.from((await ok('file_read', { workspace: 'main', path: 'full.bin', encoding: 'base64' })).content as string, 'base64').equals(full)).toBe(true);
      // A file grown past the limit by other means is refused to a base64 read as to any read.
      writeFileSync(join(root, 'grown.bin'), over);
      expect(await call(agent, 'file_read', { workspace: 'main', path: 'grown.bin', encoding: 'base64' })).toMatchObject({ status: 413, body: { error: { code: 'E_TOO_LARGE', field: 'path' } } });
    });

    it('file_list, file_stat, file_move and file_delete', async () => {
      await ok('file_write', { workspace: 'main', path: 'tree/a.txt', content: 'a\n' });
      await ok('file_write', { workspace: 'main', path: 'tree/sub/b.txt', content: 'bb\n' });
      expect(await ok('file_list', { workspace: 'main', path: 'tree' })).toEqual({
        entries: [
          { path: 'tree/a.txt', type: 'file', size: 2 },
          { path: 'tree/sub', type: 'directory' },
          { path: 'tree/sub/b.txt', type: 'file', size: 3 },
        ],
      });
      expect(await ok('file_stat', { workspace: 'main', path: 'tree/a.txt' })).toMatchObject({ path: 'tree/a.txt', type: 'file', size: 2, sha256: sha256('a\n'), mode: expect.stringMatching(/^0[0-7]{3}$/) });
      expect(await ok('file_stat', { workspace: 'main', path: 'tree/sub' })).toMatchObject({ type: 'directory' });
      expect(await ok('file_move', { workspace: 'main', from: 'tree/a.txt', to: 'tree/sub/a2.txt' })).toEqual({ from: 'tree/a.txt', to: 'tree/sub/a2.txt' });
      expect(readFileSync(join(root, 'tree/sub/a2.txt'), 'utf8')).toBe('a\n');
      const clash = await call(agent, 'file_move', { workspace: 'main', from: 'tree/sub/a2.txt', to: 'tree/sub/b.txt' });
      expect(clash).toMatchObject({ status: 409, body: { error: { code: 'E_CONFLICT', field: 'to' } } });
      const notEmpty = await call(agent, 'file_delete', { workspace: 'main', path: 'tree' });
      expect(notEmpty).toMatchObject({ status: 409, body: { error: { code: 'E_CONFLICT', field: 'recursive' } } });
      expect(await ok('file_delete', { workspace: 'main', path: 'tree', recursive: true })).toEqual({ path: 'tree', type: 'directory' });
      expect(existsSync(join(root, 'tree'))).toBe(false);
      expect(await call(agent, 'file_stat', { workspace: 'main', path: 'tree' })).toMatchObject({ status: 404, body: { error: { code: 'E_NOT_FOUND', message: 'tree not found' } } });
      expect(await call(agent, 'file_read', { workspace: 'main', path: '../outside' })).toMatchObject({ status: 400, body: { error: { code: 'E_PATH_OUTSIDE_WORKSPACE' } } });
    });
  });

  describe('held calls', () => {
    it('a write held under review-writes answers 202 with the pending answer, and is applied when approved over REST', async () => {
      const reviewedRoot = (await ok('workspace_get', { workspace: 'reviewed' })).root as string;
      const held = await call(agent, 'file_write', { workspace: 'reviewed', path: 'plan.md', content: 'ship it\n' });
      expect(held.status).toBe(202);
      expect(held.body).toEqual({ status: 'pending_approval', action_id: held.headers.get('x-action-id'), preview: expect.stringContaining('+ship it'), expires_at: expect.any(String) });
      expect(existsSync(join(reviewedRoot, 'plan.md'))).toBe(false);

      // An agent cannot decide it, by either route.
      const id = held.body.action_id as string;
      expect(await call(agent, 'action_approve', { id })).toMatchObject({ status: 403, body: { error: { code: 'E_FORBIDDEN' } } });
      const viaRoute = await fetch(new URL(`/api/actions/${id}/approve`, server.url), { method: 'POST', headers: { authorization: `Bearer ${agent}` } });
      expect(viaRoute.status).toBe(403);

      const approved = await fetch(new URL(`/api/actions/${id}/approve`, server.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'fine' }),
      });
      expect(approved.status).toBe(200);
      expect(await approved.json()).toMatchObject({ id, status: 'applied', decided_by: 'acme/ana', reason: 'fine', result: { path: 'plan.md', created: true } });
      expect(readFileSync(join(reviewedRoot, 'plan.md'), 'utf8')).toBe('ship it\n');
      // The path names the action: a body naming another is refused, not silently overridden.
      const mismatch = await fetch(new URL(`/api/actions/${id}/reject`, server.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'act_other' }),
      });
      expect(mismatch.status).toBe(400);
      expect(await mismatch.json()).toMatchObject({ error: { code: 'E_INVALID_ARGUMENT', field: 'id' } });
    });

    it('a held binary write shows its size and hash, not bytes, and writes the exact bytes when approved', async () => {
      const reviewedRoot = (await ok('workspace_get', { workspace: 'reviewed' })).root as string;
      const bytes = Buffer.concat([Buffer.from([0]), randomBytes(1000)]);
      const held = await call(agent, 'file_write', { workspace: 'reviewed', path: 'image.bin', content: bytes.toString('base64'), encoding: 'base64' });
      expect(held.status).toBe(202);
      expect(held.body.preview).toBe(`create image.bin with ${bytes.length} bytes of binary content (sha256 ${sha256(bytes)})`);
      // Invalid base64 is refused at once, never held.
      expect(await call(agent, 'file_write', { workspace: 'reviewed', path: 'bad.bin', content: '***', encoding: 'base64' })).toMatchObject({ status: 400, body: { error: { field: 'content' } } });
      expect(await ok('action_list', { status: 'proposed' }, approver)).toMatchObject({ actions: [{ id: held.body.action_id, operation: 'file_write' }] });
      await ok('action_approve', { id: held.body.action_id }, approver);
      expect(readFileSync(join(reviewedRoot, 'image.bin')).equals(bytes)).toBe(true);
    });
  });

  it('an Idempotency-Key replays the first outcome (x-replay-of) without a second effect, and refuses other arguments', async () => {
    const headers = { 'idempotency-key': 'rest-key-1' };
    const first = await call(agent, 'file_write', { workspace: 'main', path: 'once.txt', content: 'one\n' }, headers);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-replay-of')).toBeNull();
    writeFileSync(join(root, 'once.txt'), 'changed since\n');
    const again = await call(agent, 'file_write', { workspace: 'main', path: 'once.txt', content: 'one\n' }, headers);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('x-replay-of')).toBe(first.headers.get('x-action-id'));
    expect(again.headers.get('x-action-id')).not.toBe(first.headers.get('x-action-id'));
    expect(readFileSync(join(root, 'once.txt'), 'utf8')).toBe('changed since\n');
    const other = await call(agent, 'file_write', { workspace: 'main', path: 'once.txt', content: 'two\n' }, headers);
    expect(other).toMatchObject({ status: 422, body: { error: { code: 'E_IDEMPOTENCY_MISMATCH' } } });
    // A held call replays as held.
    const heldFirst = await call(agent, 'file_write', { workspace: 'reviewed', path: 'later.txt', content: 'x\n' }, { 'idempotency-key': 'rest-key-2' });
    const heldAgain = await call(agent, 'file_write', { workspace: 'reviewed', path: 'later.txt', content: 'x\n' }, { 'idempotency-key': 'rest-key-2' });
    expect([heldFirst.status, heldAgain.status]).toEqual([202, 202]);
    expect(heldAgain.body).toEqual(heldFirst.body);
    // A malformed key is refused rather than ignored (a retry would otherwise act twice).
    const malformed = await call(agent, 'file_write', { workspace: 'main', path: 'once.txt', content: 'three\n' }, { 'idempotency-key': 'has spaces' });
    expect(malformed).toMatchObject({ status: 400, body: { error: { code: 'E_INVALID_ARGUMENT', field: 'Idempotency-Key' } } });
    expect(readFileSync(join(root, 'once.txt'), 'utf8')).toBe('changed since\n');
  });

  describe('exec', () => {
    it('runs a command in the workspace and answers its outcome', async () => {
      writeFileSync(join(root, 'input.txt'), 'from the workspace\n');
      const ran = await ok('exec', { workspace: 'main', command: ['sh', '-c', 'cat input.txt; echo oops >&2; exit 3'] });
      expect(ran).toMatchObject({ exit_code: 3, timed_out: false, cancelled: false, stdout: 'from the workspace\n', stderr: 'oops\n', truncated: false });
    });

    it('a client that goes away cancels its command: the process is gone and the action recorded as cancelled', async () => {
      const marker = `rest-cancel-${randomBytes(4).toString('hex')}`;
      const controller = new AbortController();
      const correlation = `cancel-${marker}`;
      const pending = fetch(new URL('/api/ops/exec', server.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/json', 'x-correlation-id': correlation },
        body: JSON.stringify({ workspace: 'main', command: ['sh', '-c', `sleep 60 # ${marker}`], timeout_s: 120 }),
        signal: controller.signal,
      }).catch((error: unknown) => error);
      await expect.poll(() => processesWith(marker), { timeout: 30_000 }).toBeGreaterThan(0);
      controller.abort();
      expect(await pending).toBeInstanceOf(Error);
      await expect.poll(() => processesWith(marker), { timeout: 30_000 }).toBe(0);
      await expect.poll(() => server.app.db.prepare('SELECT status FROM actions WHERE correlation_id = ?').pluck().get(correlation), { timeout: 30_000 }).toBe('cancelled');
    });
  });

  describe('what a hostile or careless client sends', () => {
    it('an unknown operation is 404 E_NOT_FOUND, and recorded with its caller like any refused call', async () => {
      const answer = await call(agent, 'no_such_operation', {}, { 'x-correlation-id': 'rest-unknown-1' });
      expect(answer).toMatchObject({ status: 404, body: { error: { code: 'E_NOT_FOUND', message: 'unknown operation no_such_operation' } } });
      expect(answer.headers.get('x-correlation-id')).toBe('rest-unknown-1');
      expect(server.app.db.prepare('SELECT operation, status, user_id, error_code FROM actions WHERE correlation_id = ?').get('rest-unknown-1')).toEqual({
        operation: 'no_such_operation',
        status: 'failed',
        user_id: 'bot',
        error_code: 'E_NOT_FOUND',
      });
      // A path no route serves answers in the same shape; the query string is not echoed.
      const noRoute = await fetch(new URL('/api/nothing/here?token=secret', server.url), { headers: { authorization: `Bearer ${agent}` } });
      expect(noRoute.status).toBe(404);
      expect(await noRoute.json()).toEqual({ error: { code: 'E_NOT_FOUND', message: 'no route GET /api/nothing/here; operations are POST /api/ops/<name>, described at /openapi.json' } });
    });

    it('HEAD, and any method a generated path does not serve, is 405 E_METHOD_NOT_ALLOWED with Allow, and runs and records nothing', async () => {
      const endpoints = restEndpoints(server.app.registry);
      const gets = endpoints.filter((endpoint) => endpoint.method === 'GET');
      expect(gets.length).toBeGreaterThan(3);
      const actions = () => (server.app.db.prepare('SELECT count(*) AS n FROM actions').get() as { n: number }).n;
      const before = actions();
      for (const endpoint of gets) {
        const url = new URL(endpoint.path.replace(/\{[^}]+\}/g, 'x1') + '?workspace=main', server.url);
        const head = await rawRequest(url, { method: 'HEAD', headers: { authorization: `Bearer ${agent}`, 'x-correlation-id': `rest-head-${endpoint.operationId}` } });
        const allow = endpoints.filter((other) => other.path === endpoint.path).map((other) => other.method).sort().join(', ');
        expect({ path: endpoint.path, status: head.status, allow: head.headers['allow'], text: head.text }).toEqual({ path: endpoint.path, status: 405, allow, text: '' });
      }
      // The body a HEAD answer cannot carry is the usual one for the other refused methods.
      const deleted = await rawRequest(new URL('/api/notes/x1?workspace=main', server.url), { method: 'DELETE', headers: { authorization: `Bearer ${agent}` } });
      expect({ status: deleted.status, allow: deleted.headers['allow'], body: JSON.parse(deleted.text) }).toEqual({
        status: 405,
        allow: 'GET, POST',
        body: { error: { code: 'E_METHOD_NOT_ALLOWED', message: 'DELETE is not served at /api/notes/x1: it takes GET, POST; operations are POST /api/ops/<name>, described at /openapi.json' } },
      });
      const getOperation = await fetch(new URL('/api/ops/file_read?token=secret', server.url), { headers: { authorization: `Bearer ${agent}` } });
      expect({ status: getOperation.status, allow: getOperation.headers.get('allow'), body: await getOperation.json() }).toEqual({
        status: 405,
        allow: 'POST',
        body: { error: { code: 'E_METHOD_NOT_ALLOWED', message: 'GET is not served at /api/ops/file_read: it takes POST; operations are POST /api/ops/<name>, described at /openapi.json' } },
      });
      expect(actions()).toBe(before);
      // Without a token it is refused as every route is, before anything else.
      expect((await rawRequest(new URL('/api/notes?workspace=main', server.url), { method: 'HEAD' })).status).toBe(401);
      // A GET still runs (and records) its operation.
      expect((await fetch(new URL('/api/notes?workspace=main', server.url), { headers: { authorization: `Bearer ${agent}` } })).status).toBe(200);
      expect(actions()).toBe(before + 1);
    });

    it('a body over the limit is 413 E_TOO_LARGE; malformed JSON 400; not JSON 415; no body or an empty one is {}', async () => {
      const limit = MAX_FILE_BYTES * 2 + 1024 * 1024;
      const huge = JSON.stringify({ workspace: 'main', path: 'x.txt', content: 'a'.repeat(limit) });
      const tooLarge = await rawRequest(new URL('/api/ops/file_write', server.url), { method: 'POST', headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/json' }, body: huge });
      expect(tooLarge.status).toBe(413);
      expect(JSON.parse(tooLarge.text)).toMatchObject({ error: { code: 'E_TOO_LARGE' } });
      expect(existsSync(join(root, 'x.txt'))).toBe(false);

      const post = (body: string | undefined, contentType: string | undefined) =>
        rawRequest(new URL('/api/ops/workspace_list', server.url), { method: 'POST', headers: { authorization: `Bearer ${agent}`, ...(contentType ? { 'content-type': contentType } : {}) }, ...(body === undefined ? {} : { body }) });
      const malformed = await post('{"workspace": ', 'application/json');
      expect(malformed.status).toBe(400);
      expect(JSON.parse(malformed.text)).toMatchObject({ error: { code: 'E_INVALID_ARGUMENT' } });
      const form = await post('a=b', 'application/x-www-form-urlencoded');
      expect(form.status).toBe(415);
      expect(JSON.parse(form.text)).toMatchObject({ error: { code: 'E_INVALID_ARGUMENT' } });
      for (const [body, type] of [[undefined, undefined], ['', 'application/json'], ['  ', 'application/json; charset=utf-8'], ['{}', 'application/json']] as const) {
        const answer = await post(body, type);
        expect({ body, type, status: answer.status }).toEqual({ body, type, status: 200 });
        expect((JSON.parse(answer.text) as Json).workspaces.map((workspace: Json) => workspace.name)).toEqual(['main', 'reviewed']);
      }
      // JSON that is not an object is refused by validation, naming the arguments.
      const array = await call(agent, 'file_list', [1]);
      expect(array).toMatchObject({ status: 400, body: { error: { code: 'E_INVALID_ARGUMENT', field: '(arguments)' } } });
      // JSON nested far deeper than any input is refused and recorded, not an internal error
      // (recording it used to overflow the stack): the same refusal MCP gets, from the registry.
      const depth = 100_000;
      const deep = await rawRequest(new URL('/api/ops/file_edit', server.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/json', 'x-correlation-id': 'rest-deep-1' },
        body: `{"path":"a","edits":${'['.repeat(depth)}${']'.repeat(depth)}}`,
      });
      expect({ status: deep.status, body: JSON.parse(deep.text) }).toEqual({
        status: 400,
        body: { error: { code: 'E_INVALID_ARGUMENT', message: 'the arguments are nested deeper than 64 levels', field: '(arguments)' } },
      });
      expect(server.app.db.prepare('SELECT operation, status, error_code FROM actions WHERE correlation_id = ?').get('rest-deep-1')).toEqual({ operation: 'file_edit', status: 'failed', error_code: 'E_INVALID_ARGUMENT' });
      // Nesting a real input needs is nowhere near the limit.
      const nested = { path: 'a.ts', range: { start: { line: 1, column: 1 }, end: { line: 1, column: 2 } }, kind: 'constant', name: 'x', workspace: 'main' };
      expect((await call(agent, 'refactor_extract', nested)).body.error?.message).not.toMatch(/nested deeper/);
      // A prototype key is refused by the parser, never merged into anything.
      const proto = await post('{"__proto__": {"admin": true}}', 'application/json');
      expect(proto.status).toBe(400);
      expect(({} as Json).admin).toBeUndefined();
    });
  });

  describe('resource routes', () => {
    it('GET routes take the input from the query string, typed by the schema', async () => {
      const created = await fetch(new URL('/api/notes', server.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/json' },
        body: JSON.stringify({ workspace: 'main', title: 'Routes', body: '- [ ] try @bot' }),
      });
      expect(created.status).toBe(200);
      const note = (await created.json()) as Json;
      const got = await fetch(new URL(`/api/notes/${note.id}?workspace=main`, server.url), { headers: { authorization: `Bearer ${agent}` } });
      expect(await got.json()).toMatchObject({ id: note.id, title: 'Routes', tasks: [{ text: 'try @bot', status: 'open', assignee: 'bot' }] });
      const tasks = await fetch(new URL('/api/tasks?workspace=main&status=open&assignee=bot', server.url), { headers: { authorization: `Bearer ${agent}` } });
      expect(await tasks.json()).toMatchObject({ tasks: [{ note: note.id, text: 'try @bot' }] });
      const repeated = await fetch(new URL('/api/tasks?workspace=main&status=open&status=done', server.url), { headers: { authorization: `Bearer ${agent}` } });
      expect(repeated.status).toBe(400);
      expect(await repeated.json()).toMatchObject({ error: { code: 'E_INVALID_ARGUMENT', field: 'status' } });
      const unknown = await fetch(new URL('/api/tasks?workspace=main&bogus=1', server.url), { headers: { authorization: `Bearer ${agent}` } });
      expect(await unknown.json()).toEqual({ error: { code: 'E_INVALID_ARGUMENT', message: 'invalid argument bogus: unknown field', field: 'bogus' } });
    });

    it('query values become numbers, booleans and arrays where the schema says so, and stay strings elsewhere', () => {
      const descriptors = new Map(server.app.registry.list().map((descriptor) => [descriptor.operation.name, descriptor]));
      const typed = (name: string, values: Record<string, string | string[]>) => {
        const { input } = descriptors.get(name)!;
        const result = inputFromStrings(values, publishedJsonSchema(input, 'input'));
        return { result, valid: input.safeParse(result).success };
      };
      expect(typed('file_search', { pattern: '42', regex: 'true', ignore_case: 'false', context: '2', workspace: 'main' })).toEqual({
        result: { pattern: '42', regex: true, ignore_case: false, context: 2, workspace: 'main' },
        valid: true,
      });
      expect(typed('note_create', { title: 'x', tags: 'one' })).toEqual({ result: { title: 'x', tags: ['one'] }, valid: true });
      expect(typed('note_create', { title: 'x', tags: ['one', 'two'] })).toEqual({ result: { title: 'x', tags: ['one', 'two'] }, valid: true });
      expect(typed('refactor_extract', { path: 'a.ts', range: '{"start":{"line":1,"column":1},"end":{"line":1,"column":2}}', kind: 'constant', name: 'x' }).result.range).toEqual({
        start: { line: 1, column: 1 },
        end: { line: 1, column: 2 },
      });
      // What does not convert stays as given, for validation to refuse by name.
      expect(typed('file_search', { pattern: 'p', context: 'two', regex: 'yes' })).toEqual({ result: { pattern: 'p', context: 'two', regex: 'yes' }, valid: false });
      expect(typed('file_search', { pattern: 'p', context: '' }).result).toEqual({ pattern: 'p', context: '' });
      expect(Object.keys(typed('file_list', { ['__proto__']: 'x' }).result)).toEqual(['__proto__']);
    });
  });
});
