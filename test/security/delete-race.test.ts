/**
 * Deleting a workspace removes its whole tree as root, while code of the workspace may still
 * be running: a swapper exchanges a directory of the tree with a symlink to an outside
 * directory that holds the same names, during `workspace_delete`. Nothing outside may go.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { EXCHANGE_SCRIPT_NAME, placeExchangeScript, startSwapper } from '../helpers/rename-exchange.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/test-server.js';
import { treeSnapshot } from '../helpers/tree-snapshot.js';

const ROUNDS = 8;
const SUBDIRS = 150;

let server: TestServer;
let agent: McpClient;
let outsideDir: string;

/** `s0/f.txt` … : the workspace's `d` and the outside directory hold the same names. */
function fill(dir: string, text: string): void {
  for (let i = 0; i < SUBDIRS; i++) {
    mkdirSync(join(dir, `s${i}`), { recursive: true });
    writeFileSync(join(dir, `s${i}`, 'f.txt'), text);
  }
}

beforeAll(async () => {
  server = await startTestServer({ workspaceDiskBytes: 0 });
  agent = await connectModernHttp(server.url, server.token('acme', 'bot'));
  outsideDir = tempDir('codebuddy-outside-');
  fill(outsideDir, 'outside\n');
});

afterAll(async () => {
  await agent?.close();
  await server?.close();
});

it('workspace_delete never removes what a swapped-in symlink points at', async () => {
  const before = treeSnapshot(outsideDir);
  for (let round = 0; round < ROUNDS; round++) {
    const root = (await agent.call('workspace_create', { name: `w${round}` })).structured!.root as string;
    fill(join(root, 'd'), 'inside\n');
    symlinkSync(outsideDir, join(root, 'l'));
    placeExchangeScript(root);
    const swapper = await startSwapper(['python3'], join(root, EXCHANGE_SCRIPT_NAME), root, ['d:l']);
    const deleted = await agent.call('workspace_delete', { workspace: `w${round}` });
    // The swapper loses its directory under it and fails; what matters is what is left outside.
    await swapper.stop().catch(() => undefined);
    expect(deleted.isError, deleted.text).toBe(false);
    expect(treeSnapshot(outsideDir)).toEqual(before);
  }
});
