/**
 * Where an idle `codebuddy serve` keeps its memory: RSS and V8 heap after each startup step
 * of the built server (dist/: run `npm run build` first), in a fresh process:
 * `node --import tsx bench/startup-memory.ts [--gc] [package ...]`. Named packages are
 * imported first, one at a time (what each weighs on its own); `--gc` collects garbage
 * before each reading (what is live, not what is resident). A diagnostic for docs and
 * reviews, not part of `npm run bench`. It imports the modules tsc wrote, one by one, to weigh
 * each step; `codebuddy` itself runs bundled (tools/bundle-cli.mjs), a few MiB lighter in all.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const dist = join(import.meta.dirname, '../dist');

if (process.env.STARTUP_MEMORY_CHILD !== '1') {
  const gc = process.argv.includes('--gc');
  const packages = process.argv.slice(2).filter((arg) => arg !== '--gc');
  // A child without tsx: this process's loader would count in its memory.
  const child = spawnSync(process.execPath, [...(gc ? ['--expose-gc'] : []), '--input-type=module', '-e', childSource()], {
    env: { ...process.env, STARTUP_MEMORY_CHILD: '1', STARTUP_MEMORY_PACKAGES: packages.join(','), STARTUP_MEMORY_DIST: dist, CODEBUDDY_LOG_LEVEL: 'warn' },
    cwd: join(import.meta.dirname, '..'),
    stdio: 'inherit',
  });
  process.exit(child.status ?? 1);
}

function childSource(): string {
  return `
const { readFileSync, mkdtempSync, rmSync } = await import('node:fs');
const { join } = await import('node:path');
const { tmpdir } = await import('node:os');
const dist = process.env.STARTUP_MEMORY_DIST;
const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
let last = { rss: rss(), heap: process.memoryUsage().heapUsed / 2 ** 20 };
const f = (x) => x.toFixed(1).padStart(8);
console.log('| step | RSS MiB | Δ RSS | heap used MiB | Δ heap |');
console.log('|---|---:|---:|---:|---:|');
const step = (name) => {
  globalThis.gc?.();
  const now = { rss: rss(), heap: process.memoryUsage().heapUsed / 2 ** 20 };
  console.log('| ' + name + ' |' + f(now.rss) + ' |' + f(now.rss - last.rss) + ' |' + f(now.heap) + ' |' + f(now.heap - last.heap) + ' |');
  last = now;
};
step('node itself');
for (const name of (process.env.STARTUP_MEMORY_PACKAGES || '').split(',').filter(Boolean)) { await import(name); step('import ' + name); }
const { loadConfig } = await import(dist + '/config/load-config.js'); step('import config (zod)');
const { createApp } = await import(dist + '/app.js'); step('import app.js (services, operations)');
const { startUpkeep } = await import(dist + '/cli/serve-command.js');
const { startHttpServer } = await import(dist + '/faces/http/http-server.js'); step('import the HTTP faces (fastify, MCP SDK)');
const dataDir = mkdtempSync(join(tmpdir(), 'startup-memory-'));
const app = createApp(loadConfig({ overrides: { dataDir } })); step('createApp (database, migrations, services)');
await startUpkeep(app); step('upkeep (terminals, containers, proposals)');
const server = await startHttpServer(app, { host: '127.0.0.1', port: 0 }); step('startHttpServer (listening)');
await new Promise((resolve) => setTimeout(resolve, 2000)); step('2 s later');
await server.close(); app.close(); rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
`;
}
