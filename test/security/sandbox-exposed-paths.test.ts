import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodeBuddyError } from '../../src/core/errors.js';
import { BubblewrapSandbox } from '../../src/workspaces/runtimes/bubblewrap-sandbox.js';
import { LocalRuntime } from '../../src/workspaces/runtimes/local-runtime.js';
import type { Workspace } from '../../src/workspaces/workspace.js';

/*
 * A language server's installation (CodeBuddy's own node_modules) may lie where the sandbox
 * shows nothing — under /tmp, /root or /home, as in a CI clone. The runtime exposes exactly the
 * paths a program asks for, read-only, and still refuses a program it was not told to expose.
 */
const detected = BubblewrapSandbox.detect();
const sandbox = 'sandbox' in detected ? detected : undefined;
if (!sandbox) console.warn(`skipping sandbox exposure tests: ${'unavailable' in detected ? detected.unavailable : ''}`);

describe.skipIf(!sandbox)('paths exposed to a sandboxed program', () => {
  let scratch: string;
  let tool: string;
  let runtime: LocalRuntime;

  beforeAll(() => {
    // Under /tmp: a fresh, empty tmpfs inside the sandbox.
    scratch = mkdtempSync(join(tmpdir(), 'codebuddy-exposed-'));
    tool = join(scratch, 'tool');
    mkdirSync(tool);
    writeFileSync(
      join(tool, 'server.js'),
      "const fs = require('fs'); let write; try { fs.writeFileSync(__dirname + '/x', '1'); write = 'written'; } catch (e) { write = e.code; } process.stdout.write('ran as ' + process.getuid() + ', own dir ' + write + ', secret ' + fs.existsSync(process.env.SECRET) + '\\n');",
    );
    writeFileSync(join(scratch, 'secret.txt'), 'not for the sandbox');
    const root = join(scratch, 'workspace');
    mkdirSync(root);
    chownSync(root, 61000, 61000);
    const workspace: Workspace = { id: 'ws_exposed', tenantId: 't', name: 'exposed', root, adopted: false, runtime: 'local', status: 'ready', owner: { uid: 61000, gid: 61000 }, createdBy: 't:u', createdAt: 0 };
    runtime = new LocalRuntime(
      { limits: { pids: 64, memoryBytes: 512 * 1024 * 1024 }, homeRoot: join(scratch, 'homes'), path: '/usr/bin:/bin', sandbox: sandbox!, allowUnsandboxed: false, hiddenPaths: () => [], deniedGlobs: () => [] },
      workspace,
    );
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('runs a program from an exposed directory, which it can read but not write, and nothing beside it', async () => {
    const child = await runtime.spawnStdio({ label: 'exposed', cwd: runtime['workspace'].root, command: [process.execPath, join(tool, 'server.js')], env: { SECRET: join(scratch, 'secret.txt') }, readOnly: [process.execPath, tool] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exit = await child.exited;
    expect({ exit: exit.exitCode, err }).toEqual({ exit: 0, err: '' });
    expect(out).toBe('ran as 61000, own dir EROFS, secret false\n');
  });

  it('refuses a program the sandbox cannot see and was not told to expose', async () => {
    const attempt = runtime.spawnStdio({ label: 'unexposed', cwd: runtime['workspace'].root, command: [process.execPath, join(tool, 'server.js')], env: {} });
    await expect(attempt).rejects.toBeInstanceOf(CodeBuddyError);
    await expect(attempt).rejects.toMatchObject({ code: 'E_CONFIG' });
  });
});
