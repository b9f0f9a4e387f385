import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../core/module-worker.js';
import { CodeBuddyError } from '../../core/errors.js';
import type { SyntaxJob, SyntaxRequest, SyntaxResponse, SyntaxResult, SyntaxWorkerData } from './syntax-protocol.js';

/** How long past its budget a job may take to answer before its worker is terminated. */
const GRACE_MS = 250;
/** Until a job's grammar is loaded (starting the worker, compiling the wasm: C++ is 5 MB); then its budget counts. */
const LOAD_ALLOWANCE_MS = 30_000;
/** Heap of one worker: a query's captures of the largest file allowed fit well within it. */
const WORKER_HEAP_MB = 512;

/** The worker did not answer by its job's deadline (and was terminated), or died on it. */
export class SyntaxWorkerLost extends Error {
  constructor(readonly reason: 'timeout' | 'crash', message: string) {
    super(message);
  }
}

interface Pending {
  request: SyntaxRequest;
  resolve(result: unknown): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker | undefined;
  job: Pending | undefined;
  timer: NodeJS.Timeout | undefined;
}

function startWorker(data: SyntaxWorkerData): Worker {
  return startModuleWorker(import.meta.url, 'syntax-worker', { workerData: data, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
}

/**
 * A few worker threads that parse and query, so no file and no query an agent sends can
 * hold the event loop. Jobs queue in order; each worker runs one at a time, so one
 * agent's long query takes one worker and the others keep answering. A job carries its
 * budget: tree-sitter stops there by itself; a worker stuck past it (a catastrophic
 * regex in a `#match?` predicate runs in JavaScript, beyond tree-sitter's reach) is
 * terminated and replaced on the next job.
 */
export class SyntaxPool {
  private readonly slots: Slot[];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly data: SyntaxWorkerData,
    size: number,
  ) {
    this.slots = Array.from({ length: Math.max(1, size) }, () => ({ worker: undefined, job: undefined, timer: undefined }));
  }

  run<J extends SyntaxJob>(job: J): Promise<SyntaxResult<J>> {
    if (this.closed) return Promise.reject(new SyntaxWorkerLost('crash', 'the syntax pool is closed'));
    return new Promise<SyntaxResult<J>>((resolve, reject) => {
      this.queue.push({ request: { ...job, id: this.nextId++ }, resolve: resolve as (result: unknown) => void, reject });
      this.dispatch();
    });
  }

  /** Workers are terminated; queued jobs fail. */
  close(): void {
    this.closed = true;
    for (const pending of this.queue.splice(0)) pending.reject(new SyntaxWorkerLost('crash', 'the syntax pool is closed'));
    for (const slot of this.slots) this.retire(slot, new SyntaxWorkerLost('crash', 'the syntax pool is closed'));
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job !== undefined) continue;
      const pending = this.queue.shift();
      if (!pending) return;
      slot.job = pending;
      const worker = (slot.worker ??= this.spawn(slot));
      this.arm(slot, LOAD_ALLOWANCE_MS + pending.request.budgetMs + GRACE_MS);
      worker.postMessage(pending.request);
    }
  }

  private spawn(slot: Slot): Worker {
    const worker = startWorker(this.data);
    worker.unref(); // an idle pool never keeps the process alive
    worker.on('message', (response: SyntaxResponse) => {
      if (slot.worker !== worker || slot.job?.request.id !== response.id) return;
      const job = slot.job;
      if ('loaded' in response) {
        this.arm(slot, job.request.budgetMs + GRACE_MS); // the grammar is in: from now on the job's own budget
        return;
      }
      this.finish(slot);
      if (response.ok) job.resolve(response.result);
      else job.reject(new CodeBuddyError(response.failure.code, response.failure.message, response.failure.details));
    });
    const lost = (why: string) => {
      if (slot.worker === worker) this.retire(slot, new SyntaxWorkerLost('crash', `the syntax worker ${why}`));
    };
    worker.on('error', (error) => lost(`failed: ${error.message}`));
    worker.on('exit', (code) => lost(`exited (${code})`));
    return worker;
  }

  private arm(slot: Slot, ms: number): void {
    clearTimeout(slot.timer);
    slot.timer = setTimeout(() => this.retire(slot, new SyntaxWorkerLost('timeout', 'the syntax worker did not answer within its budget')), ms);
  }

  private finish(slot: Slot): void {
    clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.job = undefined;
    if (!this.closed) queueMicrotask(() => this.dispatch());
  }

  /** Ends a slot's worker (stuck or dead) and fails its job; the next job starts a fresh one. */
  private retire(slot: Slot, error: SyntaxWorkerLost): void {
    const { worker, job } = slot;
    slot.worker = undefined;
    if (worker) void worker.terminate();
    if (job) {
      this.finish(slot);
      job.reject(error);
    }
  }
}
