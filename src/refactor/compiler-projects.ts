import { Project, ts, type SourceFile } from 'ts-morph';
import { CodeBuddyError } from '../core/errors.js';
import { normalizeRelative } from '../files/relative-path.js';
import { PlanBuilder, ProjectCopyOutdated } from './plan-builder.js';
import type { RefactorPlan } from './refactor-plan.js';
import type { ProjectRef, RefactorWorkerData } from './refactor-protocol.js';
import { WorkspaceFileSystem } from './workspace-file-system.js';

/** One workspace's compiler project, kept between calls. */
export interface WarmProject {
  project: Project;
  files: WorkspaceFileSystem;
}

interface Held extends WarmProject {
  root: string;
  /** Workspace paths changed since the project last looked (files or directories). */
  dirty: Set<string>;
  /** A compiler setting changed: the project is built again on next use. */
  reload: boolean;
}

/** A plan is made again this many times when files change on disk while it is made. */
const PLAN_ATTEMPTS = 3;

const SOURCE = /\.(?:[cm]?tsx?|[cm]?jsx?)$/;
const SOURCE_GLOB = '**/*.{ts,tsx,mts,cts,js,jsx,mjs,cjs}';
/** Changes to these rebuild the project: they decide what it holds and how it resolves modules. */
const CONFIGURATION = /(?:^|\/)(?:tsconfig(?:\.[\w-]+)?\.json|jsconfig\.json|package\.json)$/;
const outsideDependencies = (path: string) => !path.split('/').includes('node_modules');

/**
 * The ts-morph projects, in the refactoring worker: one per warm workspace, loaded through
 * the handle walk (workspace-file-system.ts) and kept between calls. Which projects are
 * warm, and for how long, the main thread decides (typescript-projects.ts): it holds the
 * watcher leases, hears the bus and forwards what changed; this side loads a project on
 * its first job, drops it when told.
 *
 * Updates are lazy: a change only notes the path, and the next job re-reads those files.
 * A burst of changes (a checkout, a build) costs nothing until a refactor is asked for.
 */
export class CompilerProjects {
  private readonly held = new Map<string, Held>();

  constructor(private readonly limits: RefactorWorkerData) {}

  /** The plan of `planner` on the project, brought up to date first; a file found changed on disk meanwhile is re-read and the plan made again. */
  plan<I>(ref: ProjectRef, planner: (builder: PlanBuilder, input: I) => RefactorPlan, input: I): RefactorPlan {
    for (let attempt = 1; attempt <= PLAN_ATTEMPTS; attempt++) {
      const held = this.use(ref);
      try {
        return planner(new PlanBuilder(held), input);
      } catch (error) {
        if (!(error instanceof ProjectCopyOutdated)) throw error;
        // The disk moved on before the watcher said so: re-read that file and plan again.
        this.note(held, error.path);
      }
    }
    throw new CodeBuddyError('E_CONFLICT', 'files kept changing while the refactor was planned; try again when they settle');
  }

  /** Whether the project holds the file at a workspace path (loading the project when it is a TS/JS file). */
  covers(ref: ProjectRef, path: string): boolean {
    const relative = normalizeRelative(path);
    if (!SOURCE.test(relative)) return false;
    const held = this.use(ref);
    return held.project.getSourceFile(held.files.absolute(relative)) !== undefined;
  }

  changed(key: string, paths: readonly string[]): void {
    const held = this.held.get(key);
    if (held) for (const path of paths) this.note(held, path);
  }

  holds(key: string): boolean {
    return this.held.has(key);
  }

  drop(key: string): void {
    this.held.delete(key);
  }

  private use(ref: ProjectRef): Held {
    let held = this.held.get(ref.key);
    if (!held) {
      held = { root: ref.root, ...this.build(ref.root), dirty: new Set(), reload: false };
      this.held.set(ref.key, held);
    } else this.update(held);
    return held;
  }

  private note(held: Held, path: string): void {
    if (CONFIGURATION.test(path)) held.reload = true;
    else held.dirty.add(path);
  }

  private build(root: string): WarmProject {
    const files = new WorkspaceFileSystem(root, this.limits.maxFileBytes);
    const tsconfig = files.absolute('tsconfig.json');
    const configured = files.fileExistsSync(tsconfig);
    const project = configured
      ? new Project({ tsConfigFilePath: tsconfig, fileSystem: files })
      : new Project({
          fileSystem: files,
          compilerOptions: { allowJs: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, jsx: ts.JsxEmit.Preserve },
        });
    if (!configured) project.addSourceFilesAtPaths(files.absolute(SOURCE_GLOB));
    const count = project.getSourceFiles().length;
    if (count > this.limits.maxSourceFiles) {
      throw new CodeBuddyError('E_TOO_LARGE', `the workspace's project has ${count} source files; refactors load at most ${this.limits.maxSourceFiles}`);
    }
    return { project, files };
  }

  /** Applies what the main thread reported since the last use: changed files re-read, new ones added, gone ones removed. */
  private update(held: Held): void {
    if (held.reload) {
      Object.assign(held, this.build(held.root), { reload: false });
      held.dirty.clear();
      return;
    }
    if (held.dirty.size === 0) return;
    const { project, files } = held;
    for (const path of held.dirty) {
      const absolute = files.absolute(path);
      // The path may have been a directory (deleted or moved away): its files go or are re-read.
      for (const below of project.getSourceFiles().filter((file) => file.getFilePath().startsWith(`${absolute}/`))) refresh(project, files, below);
      const existing = project.getSourceFile(absolute);
      if (existing) refresh(project, files, existing);
      else if (SOURCE.test(path) && outsideDependencies(path) && files.fileExistsSync(absolute)) project.addSourceFileAtPath(absolute);
      else if (outsideDependencies(path) && files.directoryExistsSync(absolute)) project.addSourceFilesAtPaths(`${absolute}/${SOURCE_GLOB}`);
    }
    held.dirty.clear();
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
