import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { EventBus } from '../src/core/event-bus.js';
import { createLogger } from '../src/core/logger.js';
import { WorkspaceWatchers } from '../src/files/workspace-watcher.js';
import { TypeScriptProjects } from '../src/refactor/typescript-projects.js';
import { planDiff, planDigest, touchedFiles } from '../src/refactor/refactor-plan.js';
import { serialize, deserialize } from 'node:v8';
const root = process.argv[2]!;
const logger = createLogger('silent');
const events = new EventBus();
const watchers = new WorkspaceWatchers(events, logger, { debounceMs: 50, skippedDirectories: ['.git', 'node_modules'] });
const projects = new TypeScriptProjects(events, watchers, { idleMs: 600_000, maxProjects: 1, maxSourceFiles: 20_000, maxFileBytes: 1e7, workerHeapMb: 4096, timeoutMs: 120_000 }, logger);
const ws = { id: 'w', tenantId: 't', name: 'n', root, adopted: true, runtime: 'local' as const, status: 'ready', createdBy: 'x', createdAt: 0 };
const h = monitorEventLoopDelay({ resolution: 10 }); h.enable();
let t = performance.now();
const plan = await projects.plan(ws, 'rename', { symbol: 'shared', new_name: 'formatted' });
console.log('cold plan', (performance.now() - t).toFixed(0), 'stall', (h.max / 1e6).toFixed(0));
for (const [name, f] of [['touched', () => touchedFiles(plan)], ['diff1', () => planDiff(plan, 1)], ['digest', () => planDigest(plan)], ['diff3', () => planDiff(plan, 3)], ['clone', () => deserialize(serialize(plan))]] as const) {
  t = performance.now(); (f as () => unknown)(); console.log(name, (performance.now() - t).toFixed(1));
}
const s = serialize(plan); t = performance.now(); deserialize(s); console.log('deserialize', (performance.now() - t).toFixed(1), 'bytes', s.length);
projects.closeAll(); await watchers.closeAll();
