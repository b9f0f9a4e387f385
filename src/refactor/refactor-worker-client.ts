import type { Worker } from 'node:worker_threads';
import { CodeBuddyError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { startModuleWorker } from '../core/module-worker.js';
import type { RefactorPlan } from './refactor-plan.js';
import type { RefactorJob, RefactorNotice, RefactorResponse, RefactorWorkerData } from './refactor-protocol.js';

export interface WorkerLimits {
  /** The worker's V8 heap (old generation): a project too big for it fails its refactor, not the server. */
  heapMb: number;
  /** Longest a job may run in the worker; then the worker is terminated and the job fails E_TIMEOUT. */
  timeoutMs: number;
}

/**
 * Why the worker went away under a job. `timeout` and `cancelled` are ours (the worker is
 * terminated: a synchronous compiler cannot be interrupted otherwise); `heap` and `crash`
 * are its own death.
 */
export type WorkerLoss = 'timeout' | 'cancelled' | 'heap' | 'crash';

/** What the worker answered: a result or a refused job, and whether it holds the job's project now. */
export type JobOutcome =
  | { ok: true; result: RefactorPlan | boolean; held: boolean; ms: number }
  | { ok: false; error: CodeBuddyError; held: boolean };

interface Pending {
  job: RefactorJob & { id: number };
  resolve(outcome: JobOutcome): void;
  reject(error: Error): void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * The main thread's side of the refactoring worker (refactor-worker.ts). The worker starts
 * on the first job, not with the server: ts-morph and the compiler it bundles load there
 * only, so a server that never refactors never pays their memory. Jobs run one at a time
 * in order; notices are posted at once and reach the worker in order with them.
 *
 * A job has a time limit and follows its caller's cancellation: queued, it just leaves the
 * queue; running, the worker is terminated (a compiler inside a synchronous call cannot be
 * stopped any other way) and its projects with it. When the worker goes away under a job —
 * terminated so, out of heap, crashed — `lost` is told first (the owner forgets its warm
 * projects), the job fails with the error `lost` gives, and the queue goes on with a fresh
 * worker.
 */
export class RefactorWorkerClient {
  private worker: Worker | undefined;
  private running: Pending | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly queue: Pending[] = [];
  private nextId = 1;

  constructor(
    private readonly data: RefactorWorkerData,
    private readonly limits: WorkerLimits,
    private readonly lost: (why: WorkerLoss, job: RefactorJob | undefined) => CodeBuddyError,
    private readonly logger: Logger,
  ) {}

  /** Whether a worker thread exists now (it is started lazily and stopped when nothing is warm). */
  get started(): boolean {
    return this.worker !== undefined;
  }

  /** The worker thread now, if any (for tests: what a crash looks like is its termination from outside). */
  get thread(): Worker | undefined {
    return this.worker;
  }

  /** Nothing running and nothing queued. */
  get idle(): boolean {
    return this.running === undefined && this.queue.length === 0;
  }

  /** The worker's answer; rejected (never with the worker's answer) when the worker went away under the job, or the caller cancelled. */
  run(job: RefactorJob, signal?: AbortSignal): Promise<JobOutcome> {
    if (signal?.aborted) return Promise.reject(cancelled());
    return new Promise((resolve, reject) => {
      const pending: Pending = { job: { ...job, id: this.nextId++ }, resolve, reject, signal, onAbort: () => this.abort(pending) };
      signal?.addEventListener('abort', pending.onAbort, { once: true });
      this.queue.push(pending);
      this.dispatch();
    });
  }

  /** A notice for the worker's projects; none is needed when no worker runs (it then holds no project). */
  notify(notice: RefactorNotice): void {
    this.worker?.postMessage(notice);
  }

  /** Ends the worker, its memory with it; queued and running jobs fail E_UNAVAILABLE. */
  stop(): void {
    for (const pending of this.queue.splice(0)) this.settle(pending, new CodeBuddyError('E_UNAVAILABLE', 'the refactoring worker stopped', { retryable: true }));
    const running = this.running;
    this.running = undefined;
    clearTimeout(this.timer);
    this.terminate();
    if (running) this.settle(running, new CodeBuddyError('E_UNAVAILABLE', 'the refactoring worker stopped', { retryable: true }));
  }

  private dispatch(): void {
    if (this.running) return;
    const next = this.queue.shift();
    if (!next) return;
    this.running = next;
    this.worker ??= this.spawn();
    this.timer = setTimeout(() => this.lose('timeout'), this.limits.timeoutMs);
    this.worker.postMessage(next.job);
  }

  private spawn(): Worker {
    const worker = startModuleWorker(import.meta.url, 'refactor-worker', {
      workerData: this.data,
      resourceLimits: { maxOldGenerationSizeMb: this.limits.heapMb },
      // Never the server's stdout, which may be the MCP stdio channel: anything printed there is dropped.
      stdout: true,
    });
    worker.stdout.resume();
    worker.unref(); // an idle worker never keeps the process alive
    worker.on('message', (response: RefactorResponse) => {
      const running = this.running;
      if (this.worker !== worker || running?.job.id !== response.id) return;
      this.running = undefined;
      clearTimeout(this.timer);
      if (response.ok) {
        this.settle(running, undefined, { ok: true, result: response.result, held: response.held, ms: response.ms });
      } else {
        const { failure } = response;
        if (failure.internal) this.logger.error({ stack: failure.internal, job: running.job.kind }, 'refactoring worker: internal error');
        this.settle(running, undefined, { ok: false, error: new CodeBuddyError(failure.code, failure.message, failure.details), held: response.held });
      }
      this.dispatch();
    });
    worker.on('error', (error) => {
      if (this.worker !== worker) return;
      const heap = (error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.logger.warn({ err: error.message }, heap ? 'refactoring worker ran out of heap' : 'refactoring worker failed');
      this.lose(heap ? 'heap' : 'crash');
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.lose('crash', code);
    });
    return worker;
  }

  private terminate(): void {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) void worker.terminate();
  }

  /** The worker is gone (or must go) under the running job: that job fails, the queue moves on to a fresh worker. */
  private lose(why: WorkerLoss, exitCode?: number): void {
    const running = this.running;
    this.running = undefined;
    clearTimeout(this.timer);
    this.terminate();
    if (why === 'crash' && exitCode !== undefined) this.logger.warn({ exitCode }, 'refactoring worker exited');
    if (running) {
      // The job's owner first: the warm projects died with the worker.
      this.settle(running, this.lost(why, running.job));
    } else this.lost(why, undefined);
    this.dispatch();
  }

  private abort(pending: Pending): void {
    if (this.running === pending) {
      this.lose('cancelled');
      return;
    }
    const index = this.queue.indexOf(pending);
    if (index >= 0) {
      this.queue.splice(index, 1);
      this.settle(pending, cancelled());
    }
  }

  private settle(pending: Pending, error: Error | undefined, outcome?: JobOutcome): void {
    pending.signal?.removeEventListener('abort', pending.onAbort);
    if (error) pending.reject(error);
    else pending.resolve(outcome!);
  }
}

function cancelled(): CodeBuddyError {
  return new CodeBuddyError('E_UNAVAILABLE', 'the refactor was cancelled');
}
