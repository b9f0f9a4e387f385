import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, connectLegacyHttp } from '../helpers/mcp-clients.js';
import { tempDir } from '../helpers/test-server.js';

const run = promisify(execFile);
const cli = (args: string[], env: Record<string, string> = {}) => run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });

describe('codebuddy CLI', () => {
  it('prints help and version', async () => {
    expect((await cli(['--help'])).stdout).toContain('serve [options]');
    expect((await cli(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await cli(['serve', '--help'])).stdout).toContain('--workspace <path>');
  });

  it('issues a token that the HTTP server accepts, and prints a first-start banner once', async () => {
    const dataDir = tempDir();
    const { stdout } = await cli(['--data-dir', dataDir, 'token', 'create', '--tenant', 'acme', '--user', 'ada', '--role', 'approver']);
    const token = stdout.trim();
    expect(token).toMatch(/^cb_tok_[0-9a-z]{26}_[\w-]{43}$/);

    const server = spawn(process.execPath, [CLI, '--data-dir', dataDir, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CODEBUDDY_LOG_LEVEL: 'warn' } });
    let banner = '';
    server.stdout.on('data', (chunk: Buffer) => (banner += chunk.toString()));
    await expect.poll(() => banner, { timeout: 15_000 }).toContain('More tokens:');
    const url = /serving MCP at (\S+)/.exec(banner)![1]!;
    expect(banner).toMatch(/An agent token for the local tenant[^\n]*\n\s+cb_tok_/);

    const client = await connectLegacyHttp(new URL(url), token);
    expect((await client.call('workspace_list')).text).toBe('no workspaces');
    await client.close();
    server.kill('SIGTERM');
    await new Promise((resolve) => server.on('close', resolve));

    // Second start: the local tenant has a token already, so none is printed again.
    const again = spawn(process.execPath, [CLI, '--data-dir', dataDir, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let second = '';
    again.stdout.on('data', (chunk: Buffer) => (second += chunk.toString()));
    await expect.poll(() => second, { timeout: 15_000 }).toContain('More tokens:');
    expect(second).not.toContain('An agent token');
    again.kill('SIGTERM');
    await new Promise((resolve) => again.on('close', resolve));
  });

  it('stops on invalid configuration with a message naming the setting', async () => {
    await expect(cli(['serve'], { CODEBUDDY_PORT: 'x', CODEBUDDY_DATA_DIR: tempDir() })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('invalid setting port (CODEBUDDY_PORT)'),
    });
    await expect(cli(['token', 'create', '--tenant', 'Bad Tenant', '--user', 'u', '--data-dir', tempDir()])).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('--tenant') });
    await expect(cli(['token', 'create', '--tenant', 't', '--user', 'u', '--role', 'root'])).rejects.toMatchObject({ stderr: expect.stringContaining('Allowed choices are agent, approver, admin') });
  });
});
