import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './mcp-clients.js';

/** `codebuddy serve` as a real process (so a test can SIGKILL it), once it listens; again on the same port to restart it. */
export function startServeProcess(dataDir: string, options: { port?: number; env?: Record<string, string> } = {}): Promise<{ child: ChildProcess; url: URL }> {
  const child = spawn(process.execPath, [CLI, '--data-dir', dataDir, 'serve', '--port', String(options.port ?? 0)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // No workspace disks: a killed server's loop mounts would outlive the test.
    env: { ...process.env, CODEBUDDY_LOG_LEVEL: 'warn', CODEBUDDY_WORKSPACE_DISK_BYTES: '0', ...options.env },
  });
  let banner = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      banner += chunk.toString();
      const url = /serving MCP at (\S+)/.exec(banner)?.[1];
      if (url) resolve({ child, url: new URL(url) });
    });
    child.once('exit', (code) => reject(new Error(`codebuddy serve exited (${code}) before listening`)));
  });
}
