import { CodeBuddyError } from '../core/errors.js';
import type { EventBus } from '../core/event-bus.js';
import type { Logger } from '../core/logger.js';
import type { WatchLease, WorkspaceWatchers } from '../files/workspace-watcher.js';
import type { Workspace } from '../workspaces/workspace.js';
import type { RefactorPlan } from './refactor-plan.js';
import type { PlannerInputs, PlannerName, RefactorJob } from './refactor-protocol.js';
import { RefactorWorkerClient, type WorkerLoss } from './refactor-worker-client.js';

export interface ProjectLimits {
  /** A project unused this long is dropped (its memory, its watcher lease). */
  idleMs: number;
  /** Warm projects kept at once; the least recently used goes first. */
  maxProjects: number;
  /** Source files a project may hold: a bigger tree is refused rather than loaded. */
  maxSourceFiles: number;
  maxFileBytes: number;
  /** The worker's heap: a project that does not fit fails its refactor (E_TOO_LARGE), the server stays up. */
  workerHeapMb: number;
  /** Longest one plan may take in the worker (E_TIMEOUT after). */
  timeoutMs: number;
}

export interface PlanOptions {
  /** Render the approver's diff too (a held refactor). */
  preview?: boolean;
  signal?: AbortSignal | undefined;
}

/** A workspace whose project the worker keeps warm, as the main thread tracks it. */
interface Live {
  workspace: Workspace;
  /** The worker's name for this project: a project loaded again is a new key. */
  key: string;
  lease: WatchLease;
  /** The lease is listening (a change made while the project loads is then heard of). */
  ready: Promise<void>;
  /** Counts the changes heard of: a plan made at one version is valid for it only. */
  version: number;
  /** The last plan, reused by the same call's policy check, preview and run while nothing changed. */
  cached: { request: string; version: number; plan: RefactorPlan } | undefined;
  idleTimer: NodeJS.Timeout | undefined;
  lastUsed: number;
}

let keys = 0;

/**
 * The warm TypeScript projects of the workspaces being refactored. The projects themselves
 * — ts-morph, the compiler, every source file — live in the refactoring worker
 * (refactor-worker.ts), so loading one of thousands of files or planning on it never holds
 * the event loop. This side decides which are warm: it holds each one's watcher lease,
 * hears the bus — `files.changed` from the file tools at once and from the workspace's
 * watcher for changes commands make — and forwards what changed, evicts the least recently
 * used beyond `maxProjects` and the idle ones, and drops a deleted workspace's. When no
 * project is warm the worker is stopped, its memory with it.
 *
 * One worker serves every workspace, one plan at a time (docs/architecture.md says why).
 */
export class TypeScriptProjects {
  private readonly live = new Map<string, Live>();
  readonly worker: RefactorWorkerClient;

  constructor(
    events: EventBus,
    private readonly watchers: WorkspaceWatchers,
    private readonly limits: ProjectLimits,
    private readonly logger: Logger,
  ) {
    this.worker = new RefactorWorkerClient(
      { maxSourceFiles: limits.maxSourceFiles, maxFileBytes: limits.maxFileBytes },
      { heapMb: limits.workerHeapMb, timeoutMs: limits.timeoutMs },
      (why, job) => this.workerLost(why, job),
      logger,
    );
    events.subscribe('files.changed', ({ workspaceId, changes }) => this.changed(workspaceId, changes.map((change) => change.path)));
    events.subscribe('files.moved', ({ workspaceId, from, to }) => this.changed(workspaceId, [from, to]));
    events.subscribe('workspace.deleted', ({ workspaceId }) => this.drop(workspaceId));
  }

  /** Whether a workspace has a warm project (for tests and the status of a workspace). */
  isWarm(workspaceId: string): boolean {
    return this.live.has(workspaceId);
  }

  /**
   * The plan of a refactor on the workspace's project, brought up to date first, its diffs
   * rendered (`preview`: the approver's too). The same request on an unchanged project
   * answers the plan made before (a call's policy check and run cost one plan, not two; a
   * held one's preview one more, in the worker, for its diff).
   */
  async plan<N extends PlannerName>(workspace: Workspace, planner: N, input: PlannerInputs[N], options: PlanOptions = {}): Promise<RefactorPlan> {
    const live = await this.acquire(workspace);
    const request = `${planner}\0${JSON.stringify(input)}`;
    const cached = live.cached;
    if (cached?.request === request && cached.version === live.version && (!options.preview || cached.plan.rendered?.preview !== undefined)) return cached.plan;
    const version = live.version;
    const job = { kind: 'plan' as const, project: this.ref(live), planner, input, preview: options.preview === true };
    const plan = reviveBytes((await this.run(live, job, options.signal)) as RefactorPlan);
    if (this.live.get(workspace.id) === live) live.cached = { request, version, plan };
    return plan;
  }

  /** Whether the workspace's project holds the file at a workspace path (loading the project when it is a TS/JS file). */
  async covers(workspace: Workspace, path: string): Promise<boolean> {
    if (!/\.(?:[cm]?tsx?|[cm]?jsx?)$/.test(path)) return false;
    const live = await this.acquire(workspace);
    return (await this.run(live, { kind: 'covers', project: this.ref(live), path })) as boolean;
  }

  /** The cached plan is not to be served again (it is being applied: its files are about to change). */
  forgetPlan(workspaceId: string): void {
    const live = this.live.get(workspaceId);
    if (live) live.cached = undefined;
  }

  drop(workspaceId: string): void {
    const live = this.live.get(workspaceId);
    if (!live) return;
    this.forget(live);
    this.worker.notify({ kind: 'drop', key: live.key });
    this.stopWhenCold();
  }

  closeAll(): void {
    for (const live of [...this.live.values()]) this.forget(live);
    this.worker.stop();
  }

  private ref(live: Live) {
    return { key: live.key, root: live.workspace.root };
  }

  private async acquire(workspace: Workspace): Promise<Live> {
    let live = this.live.get(workspace.id);
    if (live && live.workspace.root !== workspace.root) {
      this.drop(workspace.id);
      live = undefined;
    }
    if (!live) {
      // The lease first: a change made while the project loads is then heard of, not missed.
      const lease = this.watchers.watch(workspace);
      live = { workspace, key: `${workspace.id}#${++keys}`, lease, ready: lease.ready, version: 0, cached: undefined, idleTimer: undefined, lastUsed: Date.now() };
      this.live.set(workspace.id, live);
      this.evictBeyondLimit();
    }
    try {
      await live.ready;
    } catch (error) {
      if (this.live.get(workspace.id) === live) this.forget(live);
      throw error;
    }
    live.lastUsed = Date.now();
    this.armIdleTimer(live);
    return live;
  }

  /** A job in the worker; a project the worker does not hold afterwards (too large to load) is no longer warm. */
  private async run(live: Live, job: RefactorJob, signal?: AbortSignal): Promise<RefactorPlan | boolean> {
    const outcome = await this.worker.run(job, signal);
    const current = this.live.get(live.workspace.id) === live;
    if (!outcome.held && current) this.forget(live);
    // Evicted while its job waited: the worker loaded it for nothing, and lets it go.
    if (outcome.held && !current) this.worker.notify({ kind: 'drop', key: live.key });
    this.stopWhenCold();
    if (!outcome.ok) throw outcome.error;
    this.logger.debug({ workspaceId: live.workspace.id, job: job.kind, ms: Math.round(outcome.ms) }, 'refactoring worker answered');
    return outcome.result;
  }

  private changed(workspaceId: string, paths: string[]): void {
    const live = this.live.get(workspaceId);
    if (!live) return;
    live.version++;
    live.cached = undefined;
    this.worker.notify({ kind: 'changed', key: live.key, paths });
  }

  /** The worker went away: every warm project with it. The error the job under it fails with. */
  private workerLost(why: WorkerLoss, job: RefactorJob | undefined): CodeBuddyError {
    const others = [...this.live.values()].filter((live) => live.key !== job?.project.key).length;
    for (const live of [...this.live.values()]) this.forget(live);
    switch (why) {
      case 'timeout':
        return new CodeBuddyError('E_TIMEOUT', `the refactor took longer than ${this.limits.timeoutMs / 1000} s to plan (refactorTimeoutSeconds); it was stopped and nothing was changed`);
      case 'cancelled':
        return new CodeBuddyError('E_UNAVAILABLE', 'the refactor was cancelled; nothing was changed');
      case 'heap':
        // Alone in the worker, the project itself is too big; beside others, it may fit alone: retry.
        return others === 0
          ? new CodeBuddyError('E_TOO_LARGE', `the workspace's project needs more memory than refactors may use (${this.limits.workerHeapMb} MB, refactorWorkerHeapMb); nothing was changed`, { heap_mb: this.limits.workerHeapMb })
          : new CodeBuddyError('E_UNAVAILABLE', `the refactoring worker ran out of memory (${this.limits.workerHeapMb} MB) with ${others + 1} projects loaded; they were dropped: retry`, { retryable: true });
      case 'crash':
        return new CodeBuddyError('E_UNAVAILABLE', 'the refactoring worker stopped unexpectedly; nothing was changed: retry', { retryable: true });
    }
  }

  /** Forgets a warm project here (lease, timer); the caller tells the worker, when there is one. */
  private forget(live: Live): void {
    if (this.live.get(live.workspace.id) === live) this.live.delete(live.workspace.id);
    if (live.idleTimer) clearTimeout(live.idleTimer);
    live.lease.release();
  }

  /** Nothing warm and nothing asked: the worker's memory (the compiler, its caches) goes back. */
  private stopWhenCold(): void {
    if (this.live.size === 0 && this.worker.idle && this.worker.started) this.worker.stop();
  }

  private armIdleTimer(live: Live): void {
    if (live.idleTimer) clearTimeout(live.idleTimer);
    live.idleTimer = setTimeout(() => {
      if (this.live.get(live.workspace.id) === live) this.drop(live.workspace.id);
    }, this.limits.idleMs);
    live.idleTimer.unref();
  }

  private evictBeyondLimit(): void {
    while (this.live.size > this.limits.maxProjects) {
      const oldest = [...this.live.values()].sort((a, b) => a.lastUsed - b.lastUsed)[0]!;
      this.drop(oldest.workspace.id);
    }
  }
}

/** A structured clone turns a Buffer into a plain Uint8Array: a binary file's bytes in a move become a Buffer again. */
function reviveBytes(plan: RefactorPlan): RefactorPlan {
  for (const step of plan.steps) {
    if (step.kind === 'move' && step.after instanceof Uint8Array && !Buffer.isBuffer(step.after)) {
      const bytes: Uint8Array = step.after;
      step.after = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
  }
  return plan;
}
