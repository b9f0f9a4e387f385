import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../src/app.js';
import type { Role } from '../../src/auth/principal.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/config-schema.js';
import { startHttpServer, type HttpServer } from '../../src/faces/http/http-server.js';

export interface TestServer {
  app: App;
  http: HttpServer;
  url: URL;
  dataDir: string;
  /** Issues a real API token through the same service the CLI uses. */
  token(tenantId: string, userId?: string, role?: Role): string;
  close(): Promise<void>;
}

export function tempDir(prefix = 'codebuddy-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A real HTTP server on an ephemeral loopback port over a fresh SQLite file. */
export async function startTestServer(settings: Partial<Record<keyof Config, unknown>> = {}, http: { shutdownGraceMs?: number } = {}): Promise<TestServer> {
  const dataDir = tempDir();
  // Workspace disks (loop mounts) only where a test asks for them: they need root and outlive the process.
  const config = loadConfig({ env: {}, overrides: { dataDir, port: 0, logLevel: 'silent', workspaceDiskBytes: 0, ...settings } });
  const app = createApp(config);
  const server = await startHttpServer(app, { host: '127.0.0.1', port: 0, ...http });
  return {
    app,
    http: server,
    url: new URL(server.url),
    dataDir: app.config.dataDir,
    token: (tenantId, userId = 'user', role = 'agent') => app.tokens.create({ tenantId, userId, role }).token,
    async close() {
      await server.close();
      app.close();
      unmountUnder(app.config.dataDir);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Workspace disks mounted under a test's data directory: unmounted, so the directory can go. */
export function unmountUnder(directory: string): void {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined && point.startsWith(`${directory}/`));
  for (const point of points.reverse()) execFileSync('umount', ['-l', point]);
}
