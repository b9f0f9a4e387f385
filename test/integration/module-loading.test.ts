/**
 * A process loads what it serves (docs/architecture.md, "A process loads what it serves"):
 * an MCP client spawns a stdio server for every session and waits for its start each time,
 * so a stdio session must not load the HTTP stack, and no process loads the LSP protocol's
 * runtime objects or jose before an editor or a JWT needs them. A static import of any of
 * them, anywhere on the way, fails this test. The packages checked are those the build
 * leaves outside the bundle (tools/bundle-cli.mjs): the recorder sees what loads from node_modules.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, connectStdio } from '../helpers/mcp-clients.js';
import { tempDir } from '../helpers/test-server.js';

const recorder = fileURLToPath(new URL('../helpers/record-packages.mjs', import.meta.url));
const recording = () => {
  const file = join(tempDir(), 'packages.txt');
  return { env: { NODE_OPTIONS: `--import=${recorder}`, RECORD_PACKAGES_TO: file }, loaded: () => readFileSync(file, 'utf8').split('\n').filter(Boolean) };
};
const HTTP_STACK = ['fastify', '@fastify/websocket', '@fastify/helmet', '@fastify/cors', '@fastify/rate-limit'];
const ON_DEMAND = ['vscode-languageserver-protocol', 'jose'];

describe('what a process loads', () => {
  it('a stdio session answers its handshake and a tool call without the HTTP stack, the LSP protocol or jose', async () => {
    const { env, loaded } = recording();
    const client = await connectStdio(['--data-dir', tempDir(), 'serve', '--stdio', '--workspace', tempDir()], env);
    expect((await client.call('file_list', {})).isError).toBe(false);
    await client.close();
    // The recorder works: what the session needs from node_modules is there (the rest is bundled).
    expect(loaded()).toEqual(expect.arrayContaining(['better-sqlite3', 'pino']));
    for (const name of [...HTTP_STACK, ...ON_DEMAND]) expect(loaded()).not.toContain(name);
  });

  it('--help loads neither the app nor any face', async () => {
    const { env, loaded } = recording();
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, '--help'], { env: { ...process.env, ...env } });
    expect(stdout).toContain('serve [options]');
    // Read after the command ran: a recorder that never ran would have left no file.
    for (const name of ['better-sqlite3', 'pino', ...HTTP_STACK, ...ON_DEMAND]) expect(loaded()).not.toContain(name);
  });
});
