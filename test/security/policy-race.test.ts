/**
 * A path rule and a swap race: the policy denies `secrets/**`, and code in the workspace
 * swaps a directory `d` with a link to `secrets` while the agent writes `d/x.txt`. The policy
 * judges `d/x.txt`; the write must not then land in `secrets/` (invariant 4: a denied path
 * stays denied, however the tree changes between the check and the act).
 */
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { EXCHANGE_SCRIPT_NAME, placeExchangeScript, startSwapper } from '../helpers/rename-exchange.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const WRITES = 600;

let server: TestServer;
let agent: McpClient;
let root: string;

beforeAll(async () => {
  server = await startTestServer();
  agent = await connectModernHttp(server.url, server.token('acme', 'bot'));
  root = (await agent.call('workspace_create', { name: 'w' })).structured!.root as string;
  const admin = await connectModernHttp(server.url, server.token('acme', 'boss', 'admin'));
  const set = await admin.call('policy_set', { workspace: 'w', preset: 'trusted', rules: [{ paths: ['secrets/**'], decision: 'deny' }] });
  expect(set.isError, set.text).toBe(false);
  await admin.close();
});

afterAll(async () => {
  await agent?.close();
  await server?.close();
});

it('never writes into a denied directory swapped in under a judged path', async () => {
  mkdirSync(join(root, 'secrets'));
  mkdirSync(join(root, 'd'));
  symlinkSync('secrets', join(root, 'l'));
  placeExchangeScript(root);
  const swapper = await startSwapper(['python3'], join(root, EXCHANGE_SCRIPT_NAME), root, ['d:l']);
  const codes: Record<string, number> = {};
  try {
    for (let i = 0; i < WRITES; i++) {
      const answer = await agent.call('file_write', { path: `d/x${i}.txt`, content: 'x\n' });
      const code = answer.isError ? answer.code! : 'ok';
      codes[code] = (codes[code] ?? 0) + 1;
    }
  } finally {
    await swapper.stop();
  }
  console.log(`policy race: ${JSON.stringify(codes)}`);
  expect(readdirSync(join(root, 'secrets'))).toEqual([]);
  // The race was run: some writes went through to d, some were refused on the way.
  expect(codes.ok ?? 0).toBeGreaterThan(0);
  expect(Object.keys(codes).length).toBeGreaterThan(1);
  expect(existsSync(join(root, 'd'))).toBe(true);
});
