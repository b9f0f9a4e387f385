/**
 * Row 12 of the hostile review: failed authentications and calls to unknown tools left no
 * trace, tokens could be neither listed nor revoked, and a JWT expiring in 100 years was
 * accepted. Tokens are now listed and revoked from the CLI (a revoked token is refused at
 * once and its open sessions end), JWT lifetimes are bounded, failed authentications go to
 * the `_system` audit chain (bounded, never the credential), unknown tools to the caller's.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_CHAIN } from '../../src/ledger/failed-auth-trail.js';
import { CLI, connectLegacyHttp, connectModernHttp } from '../helpers/mcp-clients.js';
import { openSession } from '../helpers/raw-http.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/test-server.js';

const run = promisify(execFile);
const cli = (dataDir: string, ...args: string[]) => run(process.execPath, [CLI, '--data-dir', dataDir, ...args], { env: { ...process.env, CODEBUDDY_LOG_LEVEL: 'warn' } });
const idOf = (token: string) => /^cb_(tok_[0-9a-z]{26})_/.exec(token)![1]!;
const secretOf = (token: string) => token.slice(-43);
const apiGet = (server: TestServer, token: string) => fetch(new URL('/api/actions', server.url), { headers: { authorization: `Bearer ${token}` } });

describe('codebuddy token list / revoke', () => {
  it('lists tokens without their secrets, by tenant too', async () => {
    const dataDir = tempDir();
    const ada = (await cli(dataDir, 'token', 'create', '--tenant', 'acme', '--user', 'ada', '--label', 'laptop')).stdout.trim();
    const bob = (await cli(dataDir, 'token', 'create', '--tenant', 'acme', '--user', 'bob', '--role', 'approver')).stdout.trim();
    const gus = (await cli(dataDir, 'token', 'create', '--tenant', 'globex', '--user', 'gus')).stdout.trim();

    const all = (await cli(dataDir, 'token', 'list')).stdout;
    const lines = all.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+TENANT\s+USER\s+ROLE\s+CREATED\s+LAST USED\s+STATUS\s+LABEL$/);
    expect(lines).toHaveLength(4);
    expect(lines.find((line) => line.startsWith(idOf(ada)))).toMatch(/acme\s+ada\s+agent\s+\S+Z\s+-\s+active\s+laptop$/);
    expect(lines.find((line) => line.startsWith(idOf(bob)))).toMatch(/acme\s+bob\s+approver/);
    for (const token of [ada, bob, gus]) {
      expect(all).toContain(idOf(token));
      expect(all).not.toContain(secretOf(token));
    }
    const acme = (await cli(dataDir, 'token', 'list', '--tenant', 'acme')).stdout;
    expect(acme).toContain(idOf(ada));
    expect(acme).not.toContain(idOf(gus));
    expect((await cli(dataDir, 'token', 'list', '--tenant', 'nobody')).stdout.trim()).toBe('no tokens');
  });

  describe('against a running server', () => {
    let server: TestServer;
    beforeAll(async () => (server = await startTestServer()));
    afterAll(async () => server?.close());

    it('a revoked token is refused on HTTP at once, and its open sessions end', async () => {
      const token = server.token('acme', 'ada');
      const keep = server.token('acme', 'ada');
      const client = await connectLegacyHttp(server.url, token);
      await openSession(server.url, token);
      const other = await connectLegacyHttp(server.url, keep);
      expect((await client.call('workspace_list')).isError).toBe(false);
      expect(server.http.mcp.legacySessions).toBe(3);
      expect((await cli(server.dataDir, 'token', 'list')).stdout).toMatch(new RegExp(`${idOf(token)}.*\\d{4}-\\d\\d-\\d\\dT\\S+Z\\s+active`));

      const { stdout } = await cli(server.dataDir, 'token', 'revoke', idOf(token));
      expect(stdout.trim()).toBe(`revoked ${idOf(token)} (acme/ada, agent)`);

      expect((await apiGet(server, token)).status).toBe(401);
      await expect(client.call('workspace_list')).rejects.toThrow();
      // The sweep ends the revoked token's sessions; the other token's session lives on.
      await expect.poll(() => server.http.mcp.legacySessions, { timeout: 10_000 }).toBe(1);
      expect((await other.call('workspace_list')).isError).toBe(false);
      await other.close();
      await client.close().catch(() => undefined);

      expect((await cli(server.dataDir, 'token', 'list', '--tenant', 'acme')).stdout).toMatch(new RegExp(`${idOf(token)}.*revoked \\d{4}-`));
      const revocation = server.app.auditChain.query('acme', {}, 0, 1000).find((event) => event.type === 'token.revoked');
      expect(revocation).toMatchObject({ actor: expect.stringMatching(/^operator\//) });
      expect(JSON.parse(revocation!.payload_json)).toEqual({ token_id: idOf(token), user_id: 'ada', role: 'agent' });
      // Its use after revocation is in the trail, named by id, never by secret.
      const refused = server.app.auditChain.query(SYSTEM_CHAIN, {}, 0, 1000).map((event) => JSON.parse(event.payload_json) as Record<string, unknown>);
      expect(refused).toContainEqual(expect.objectContaining({ token_id: idOf(token), reason: 'The API token is invalid or revoked.' }));
      expect(JSON.stringify(refused)).not.toContain(secretOf(token));
    });

    it('revoking twice or an unknown id fails with a message', async () => {
      const token = server.token('acme', 'twice');
      await cli(server.dataDir, 'token', 'revoke', idOf(token));
      await expect(cli(server.dataDir, 'token', 'revoke', idOf(token))).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('revoked already') });
      await expect(cli(server.dataDir, 'token', 'revoke', `tok_${'0'.repeat(26)}`)).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('no token') });
    });
  });
});

describe('JWT lifetime', () => {
  const SECRET = 'a-test-secret-that-is-at-least-32-characters';
  const key = new TextEncoder().encode(SECRET);
  const now = Math.floor(Date.now() / 1000);
  const sign = (times: { iat?: number; exp: number }) => {
    const jwt = new SignJWT({ sub: 'ada', tenant: 'acme' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(times.exp);
    return (times.iat === undefined ? jwt : jwt.setIssuedAt(times.iat)).sign(key);
  };
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer({ jwtSecret: SECRET })));
  afterAll(async () => server?.close());

  it.each([
    { label: 'expiring in 100 years', times: { iat: now, exp: now + 100 * 365 * 86_400 } },
    { label: 'expiring in 100 years, without iat', times: { exp: now + 100 * 365 * 86_400 } },
    { label: 'issued "in the future" with a short lifetime, still valid for years', times: { iat: now + 5 * 365 * 86_400, exp: now + 5 * 365 * 86_400 + 3600 } },
    { label: 'issued two days ago for three days', times: { iat: now - 2 * 86_400, exp: now + 86_400 } },
  ])('a JWT $label is refused', async ({ times }) => {
    const response = await apiGet(server, await sign(times));
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('jwtMaxLifetimeSeconds');
  });

  it('control: a JWT of an hour is accepted', async () => {
    expect((await apiGet(server, await sign({ iat: now, exp: now + 3600 }))).status).toBe(200);
  });
});

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

describe('JWT from a key set (jwtJwksUrl)', () => {
  let jwks: Server;
  let fetches = 0;
  let server: TestServer;
  let signingKey: SigningKey;
  let strangerKey: SigningKey;
  const now = Math.floor(Date.now() / 1000);
  const sign = (key: SigningKey, kid: string) => new SignJWT({ sub: 'ada', tenant: 'acme' }).setProtectedHeader({ alg: 'ES256', kid }).setIssuedAt(now).setExpirationTime(now + 3600).sign(key);

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    signingKey = pair.privateKey;
    strangerKey = (await generateKeyPair('ES256')).privateKey;
    const body = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] });
    // A real identity provider's key set, over HTTP, counting how often the server asks for it.
    jwks = createServer((_request, response) => {
      fetches++;
      response.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    server = await startTestServer({ jwtJwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json` });
  });
  afterAll(async () => {
    await server?.close();
    await new Promise((resolve) => jwks?.close(resolve));
  });

  it('accepts a JWT signed by a key of the set, fetching the set once, and refuses one signed by another key', async () => {
    expect((await apiGet(server, await sign(signingKey, 'k1'))).status).toBe(200);
    expect((await apiGet(server, await sign(signingKey, 'k1'))).status).toBe(200);
    expect(fetches).toBe(1);
    const stranger = await apiGet(server, await sign(strangerKey, 'k1'));
    expect(stranger.status).toBe(401);
    expect(((await stranger.json()) as { error: { message: string } }).error.message).toContain('The JWT was refused');
  });
});

describe('the audit trail of refusals', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer()));
  afterAll(async () => server?.close());

  it.each(['2025-11-25', '2026-07-28'] as const)('%s: a call to an unknown tool is recorded with its caller', async (era) => {
    const client = await (era === '2025-11-25' ? connectLegacyHttp : connectModernHttp)(server.url, server.token('acme', `ada-${era}`));
    // An unknown tool is a protocol error (-32602), not a tool result (issue 13, point 4); it is recorded all the same.
    await expect(client.call('no_such_tool', { path: '/etc/passwd' })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('Unknown tool: no_such_tool') });
    const events = (await client.call('audit_query', { operation: 'no_such_tool', actor: `acme/ada-${era}` })).structured!.events as { actor: string; details: Record<string, unknown> }[];
    await client.close();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: `acme/ada-${era}`, details: { operation: 'no_such_tool', status: 'failed', error_code: 'E_NOT_FOUND' } });
  });

  it('a failed-authentication flood answers 429 after failedAuthPerMinute, and leaves a bounded, verifiable trail without credentials', async () => {
    const valid = server.token('acme', 'ada');
    const forged = `${valid.slice(0, -43)}${'A'.repeat(43)}`;
    const statuses: number[] = [];
    for (let i = 0; i < 150; i++) {
      const credential = i % 2 === 0 ? forged : `guess-${i}-hunter2`;
      const response = await fetch(new URL('/api/audit', server.url), { headers: { authorization: `Bearer ${credential}` } });
      statuses.push(response.status);
      if (i === 149) {
        expect(await response.json()).toMatchObject({ error: { code: 'E_RATE_LIMITED' } });
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      } else await response.body?.cancel();
    }
    expect(statuses.slice(0, 100)).toEqual(Array(100).fill(401));
    expect(statuses.slice(100)).toEqual(Array(50).fill(429));
    // A valid credential from the same address still gets in.
    expect((await apiGet(server, valid)).status).toBe(200);

    // End the recording window now: the summary of what was only counted is written.
    server.app.failedAuths.close();
    const trail = server.app.auditChain.query(SYSTEM_CHAIN, {}, 0, 10_000);
    const failed = trail.filter((event) => event.type === 'auth.failed');
    expect(failed).toHaveLength(10);
    expect(failed[0]).toMatchObject({ actor: expect.stringMatching(/^anonymous@/) });
    expect(JSON.parse(failed[0]!.payload_json)).toMatchObject({ method: 'GET', route: '/api/audit', token_id: idOf(valid), credential_fingerprint: expect.stringMatching(/^[0-9a-f]{12}$/) });
    const summaries = trail.filter((event) => event.type === 'auth.failed.summary').map((event) => JSON.parse(event.payload_json) as Record<string, unknown>);
    expect(summaries).toEqual([expect.objectContaining({ recorded: 10, not_recorded: 140, sources: 1 })]);
    const stored = JSON.stringify(trail);
    expect(stored).not.toContain(secretOf(valid));
    expect(stored).not.toContain('AAAAAAAAAA');
    expect(stored).not.toContain('hunter2');
    expect(server.app.auditChain.verify(SYSTEM_CHAIN)).toMatchObject({ ok: true });
    const verified = await cli(server.dataDir, 'audit', 'verify');
    expect(verified.stdout).toContain(`${SYSTEM_CHAIN}: ok, 11 events`);
  });
});
