import { setPriority } from 'node:os';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts the worker module `name`, a sibling of `base` (pass `import.meta.url`). Built, it
 * is the sibling `.js`; run from sources (tests, tsx) it is the `.ts`, which a worker can
 * only load through tsx's loader, registered first.
 */
export function startModuleWorker(base: string, name: string, options: WorkerOptions): Worker {
  const fromSources = base.endsWith('.ts');
  const entry = new URL(`./${name}.${fromSources ? 'ts' : 'js'}`, base);
  if (!fromSources) return new Worker(entry, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(`import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); })`, { ...options, eval: true });
}

/**
 * Lowers the calling thread's CPU priority (Linux applies a thread's own niceness): on a
 * busy machine the event loop every client shares gets the CPU first, and the worker waits.
 */
export function lowerThisThreadPriority(): void {
  try {
    setPriority(10);
  } catch {
    // not allowed here: run at the process's priority
  }
}
