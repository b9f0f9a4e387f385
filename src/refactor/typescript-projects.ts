import { Project, ts, type SourceFile } from 'ts-morph';
import { CodeBuddyError } from '../core/errors.js';
import type { EventBus } from '../core/event-bus.js';
import type { Logger } from '../core/logger.js';
import { normalizeRelative } from '../files/relative-path.js';
import type { WatchLease, WorkspaceWatchers } from '../files/workspace-watcher.js';
import type { Workspace } from '../workspaces/workspace.js';
import { WorkspaceFileSystem } from './workspace-file-system.js';

export interface ProjectLimits {
  /** A project unused this long is dropped (its memory, its watcher lease). */
  idleMs: number;
  /** Warm projects kept at once; the least recently used goes first. */
  maxProjects: number;
  /** Source files a project may hold: a bigger tree is refused rather than loaded. */
  maxSourceFiles: number;
  maxFileBytes: number;
}

/** One workspace's compiler project, kept between calls. */
export interface WarmProject {
  workspace: Workspace;
  project: Project;
  files: WorkspaceFileSystem;
  /** Counts the updates applied to the project: a plan computed at one generation is valid for it only. */
  generation: number;
}

interface Live extends WarmProject {
  lease: WatchLease;
  /** Workspace paths changed since the project last looked (files or directories). */
  dirty: Set<string>;
  /** A compiler setting changed: the project is built again on next use. */
  reload: boolean;
  idleTimer: NodeJS.Timeout | undefined;
  lastUsed: number;
}

/** Generations are unique across projects: a plan cached for a dropped project never matches its successor. */
let generations = 0;

const SOURCE = /\.(?:[cm]?tsx?|[cm]?jsx?)$/;
const SOURCE_GLOB = '**/*.{ts,tsx,mts,cts,js,jsx,mjs,cjs}';
/** Changes to these rebuild the project: they decide what it holds and how it resolves modules. */
const CONFIGURATION = /(?:^|\/)(?:tsconfig(?:\.[\w-]+)?\.json|jsconfig\.json|package\.json)$/;
const outsideDependencies = (path: string) => !path.split('/').includes('node_modules');

/**
 * One ts-morph project per workspace, loaded through the handle walk
 * (workspace-file-system.ts), kept warm and brought up to date from the bus — `files.changed`
 * from the file tools at once and from the workspace's watcher for changes commands make —
 * rather than loaded again per call. While a project is warm it holds a watcher lease; an
 * idle one is dropped, and so is one whose workspace is deleted.
 *
 * Updates are lazy: events only note what changed, and the next use re-reads those files.
 * A burst of changes (a checkout, a build) costs nothing until a refactor is asked for.
 */
export class TypeScriptProjects {
  private readonly live = new Map<string, Live>();

  constructor(
    events: EventBus,
    private readonly watchers: WorkspaceWatchers,
    private readonly limits: ProjectLimits,
    private readonly logger: Logger,
  ) {
    events.subscribe('files.changed', ({ workspaceId, changes }) => {
      const live = this.live.get(workspaceId);
      if (live) for (const change of changes) this.note(live, change.path);
    });
    events.subscribe('files.moved', ({ workspaceId, from, to }) => {
      const live = this.live.get(workspaceId);
      if (live) for (const path of [from, to]) this.note(live, path);
    });
    events.subscribe('workspace.deleted', ({ workspaceId }) => this.drop(workspaceId));
  }

  /** Whether a workspace has a warm project (for tests and the status of a workspace). */
  isWarm(workspaceId: string): boolean {
    return this.live.has(workspaceId);
  }

  /** Runs `work` on the workspace's project, brought up to date first. `work` runs synchronously: nothing changes the project meanwhile. */
  async use<T>(workspace: Workspace, work: (warm: WarmProject) => T): Promise<T> {
    let live = this.live.get(workspace.id);
    if (live && live.workspace.root !== workspace.root) {
      this.drop(workspace.id);
      live = undefined;
    }
    if (!live) live = await this.load(workspace);
    else this.update(live);
    live.lastUsed = Date.now();
    this.armIdleTimer(live);
    return work(live);
  }

  /** Whether the workspace's project holds the file at a workspace path (loading the project when it is a TS/JS file). */
  async covers(workspace: Workspace, path: string): Promise<boolean> {
    const relative = normalizeRelative(path);
    if (!SOURCE.test(relative)) return false;
    return this.use(workspace, (warm) => warm.project.getSourceFile(warm.files.absolute(relative)) !== undefined);
  }

  /** A file the caller found different on disk from the project's copy: re-read before the next use. */
  markChanged(workspaceId: string, path: string): void {
    const live = this.live.get(workspaceId);
    if (live) this.note(live, path);
  }

  drop(workspaceId: string): void {
    const live = this.live.get(workspaceId);
    if (!live) return;
    this.live.delete(workspaceId);
    if (live.idleTimer) clearTimeout(live.idleTimer);
    live.lease.release();
  }

  closeAll(): void {
    for (const id of [...this.live.keys()]) this.drop(id);
  }

  private note(live: Live, path: string): void {
    if (CONFIGURATION.test(path)) live.reload = true;
    else live.dirty.add(path);
  }

  private async load(workspace: Workspace): Promise<Live> {
    // The lease first: a change made while the project loads is then heard of, not missed.
    const lease = this.watchers.watch(workspace);
    try {
      await lease.ready;
      const { project, files } = this.build(workspace);
      const live: Live = { workspace, project, files, generation: ++generations, lease, dirty: new Set(), reload: false, idleTimer: undefined, lastUsed: Date.now() };
      this.live.set(workspace.id, live);
      this.evictBeyondLimit();
      return live;
    } catch (error) {
      lease.release();
      throw error;
    }
  }

  private build(workspace: Workspace): { project: Project; files: WorkspaceFileSystem } {
    const files = new WorkspaceFileSystem(workspace.root, this.limits.maxFileBytes);
    const started = performance.now();
    const tsconfig = files.absolute('tsconfig.json');
    const project = files.fileExistsSync(tsconfig)
      ? new Project({ tsConfigFilePath: tsconfig, fileSystem: files })
      : new Project({
          fileSystem: files,
          compilerOptions: { allowJs: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, jsx: ts.JsxEmit.Preserve },
        });
    if (!files.fileExistsSync(tsconfig)) project.addSourceFilesAtPaths(files.absolute(SOURCE_GLOB));
    const count = project.getSourceFiles().length;
    if (count > this.limits.maxSourceFiles) {
      throw new CodeBuddyError('E_TOO_LARGE', `the workspace's project has ${count} source files; refactors load at most ${this.limits.maxSourceFiles}`);
    }
    this.logger.debug({ workspaceId: workspace.id, files: count, ms: Math.round(performance.now() - started) }, 'typescript project loaded');
    return { project, files };
  }

  /** Applies what the bus reported since the last use: changed files re-read, new ones added, gone ones removed. */
  private update(live: Live): void {
    if (live.reload) {
      const { project, files } = this.build(live.workspace);
      Object.assign(live, { project, files, reload: false, generation: ++generations });
      live.dirty.clear();
      return;
    }
    if (live.dirty.size === 0) return;
    const { project, files } = live;
    for (const path of live.dirty) {
      const absolute = files.absolute(path);
      // The path may have been a directory (deleted or moved away): its files go or are re-read.
      for (const below of project.getSourceFiles().filter((file) => file.getFilePath().startsWith(`${absolute}/`))) refresh(project, files, below);
      const existing = project.getSourceFile(absolute);
      if (existing) refresh(project, files, existing);
      else if (SOURCE.test(path) && outsideDependencies(path) && files.fileExistsSync(absolute)) project.addSourceFileAtPath(absolute);
      else if (outsideDependencies(path) && files.directoryExistsSync(absolute)) project.addSourceFilesAtPaths(`${absolute}/${SOURCE_GLOB}`);
    }
    live.dirty.clear();
    live.generation = ++generations;
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

function refresh(project: Project, files: WorkspaceFileSystem, file: SourceFile): void {
  if (!files.fileExistsSync(file.getFilePath())) {
    project.removeSourceFile(file);
    return;
  }
  try {
    file.refreshFromFileSystemSync();
  } catch {
    project.removeSourceFile(file); // unreadable now (too large, replaced by something else)
  }
}
