/**
 * The official Python MCP SDK (`mcp`, the version .ci/run pins) against CodeBuddy, in both
 * eras over Streamable HTTP and stdio (issue 13, points 1 and 4): it ends its HTTP session
 * with `DELETE` + `Content-Type: application/json` and no body, which must end the session;
 * an unknown tool and a made-up `tools/list` cursor are JSON-RPC -32602.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/mcp-clients.js';
import { MCP_ACCEPT, postMcp } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { INTEROP_DIR, pythonSdk, run } from './helpers/interop-tools.js';
import { AGENT_TOOLS } from '../helpers/tool-names.js';

const python = pythonSdk();
const DRIVER = join(INTEROP_DIR, 'clients', 'python_client.py');
const modes = [
  { mode: 'legacy', era: '2025-11-25' },
  { mode: '2026-07-28', era: '2026-07-28' },
] as const;

interface Report {
  exchanges: { method: string; status: number; session: string | null }[];
  protocol_version: string;
  tools: { name: string; title: string | null }[];
  workspace_create: { is_error: boolean; text: string };
  file_write: { is_error: boolean; structured: Record<string, unknown> };
  file_read: { is_error: boolean; text: string };
  unknown_tool: Record<string, unknown>;
  bad_cursor: Record<string, unknown>;
}

async function drive(args: string[]): Promise<Report> {
  const ran = await run(python.path!, [DRIVER, ...args], { timeoutMs: 90_000 });
  if (ran.code !== 0) throw new Error(`python client exited ${ran.code}: ${ran.stderr.slice(-2000)}`);
  return JSON.parse(ran.stdout) as Report;
}

function expectCommonAnswers(report: Report, era: string): void {
  expect(report.protocol_version).toBe(era);
  expect(report.tools).toHaveLength(AGENT_TOOLS.length);
  expect(report.tools.every((tool) => typeof tool.title === 'string' && tool.title.length > 0)).toBe(true);
  expect(report.workspace_create.is_error).toBe(false);
  expect(report.file_write).toMatchObject({ is_error: false, structured: { path: 'hello.txt', size: 12, created: true } });
  expect(report.file_read).toEqual({ is_error: false, text: '1\tfrom python' });
  expect(report.unknown_tool).toEqual({ code: -32602, message: 'Unknown tool: no_such_tool' });
  expect(report.bad_cursor).toMatchObject({ code: -32602, message: expect.stringContaining('Invalid cursor') });
}

describe.skipIf(python.missing)('the Python SDK over Streamable HTTP', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer()));
  afterAll(async () => server?.close());

  it.each(modes)('$era: works, and a 2025 session ends with its DELETE (empty JSON body)', async ({ mode, era }) => {
    const token = server.token('acme', `py-${mode}`);
    const report = await drive(['--url', server.url.href, '--token', token, '--mode', mode, '--workspace', `py-${mode}`]);
    expectCommonAnswers(report, era);
    if (era === '2026-07-28') {
      // Stateless: no session to open or end, only POSTs.
      expect(report.exchanges.every((exchange) => exchange.method === 'POST' && exchange.status === 200 && exchange.session === null)).toBe(true);
      return;
    }
    const sessionId = report.exchanges[0]!.session!;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(report.exchanges.at(-1)).toEqual({ method: 'DELETE', status: 200, session: null });
    expect(server.http.mcp.legacySessions).toBe(0);
    const after = await postMcp(server.url, token, { jsonrpc: '2.0', id: 9, method: 'tools/list' }, { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' });
    expect(after.status).toBe(404);
  });

  it('the request the Python SDK ends with, by hand: DELETE with a JSON content type and no body ends the session', async () => {
    const token = server.token('acme', 'raw');
    const init = await postMcp(server.url, token, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    await init.text();
    const sessionId = init.headers.get('mcp-session-id')!;
    const before = server.http.mcp.legacySessions;
    const closed = await fetch(server.url, { method: 'DELETE', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: MCP_ACCEPT, 'mcp-session-id': sessionId } });
    expect(closed.status).toBe(200);
    expect(server.http.mcp.legacySessions).toBe(before - 1);
  });
});

describe.skipIf(python.missing)('the Python SDK over stdio', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'codebuddy-py-stdio-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it.each(modes)('$era: works, with the same protocol errors', async ({ mode, era }) => {
    const report = await drive(['--mode', mode, '--workspace', `stdio-${mode}`, '--env', JSON.stringify({ PATH: process.env.PATH, CODEBUDDY_WORKSPACE_DISK_BYTES: '0' }), '--', process.execPath, CLI, '--data-dir', dataDir, 'serve', '--stdio']);
    expectCommonAnswers(report, era);
    expect(report.exchanges).toEqual([]);
  });
});
