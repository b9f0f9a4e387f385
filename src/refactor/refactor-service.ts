import { CodeBuddyError } from '../core/errors.js';
import type { ChangeCall, FileService } from '../files/file-service.js';
import type { Workspace } from '../workspaces/workspace.js';
import { PlanBuilder, ProjectCopyOutdated } from './plan-builder.js';
import { planBases, planChangeSet, type RefactorPlan } from './refactor-plan.js';
import type { LanguageServerRenames } from './language-server-rename.js';
import { planRename, type RenameInput } from './rename.js';
import type { TypeScriptProjects } from './typescript-projects.js';

/** A refactor's planning step: reads the warm project through the builder, returns the plan. Synchronous, so the project cannot change under it. */
export type Planner<I> = (builder: PlanBuilder, input: I) => RefactorPlan;

/** What an approval carries into the apply: the base versions the approver saw. */
export interface ApplyCall extends ChangeCall {
  approvedBases?: Record<string, string | null>;
}

interface CachedPlan {
  key: string;
  generation: number;
  plan: RefactorPlan;
}

/** A plan is made again this many times when files change on disk while it is made. */
const PLAN_ATTEMPTS = 3;

/**
 * Plans refactors on the workspace's warm project and applies plans through the file
 * service, atomically. A call's plan is made once and reused by its policy check, its
 * preview and its run (the last plan per workspace is kept, valid while the project has not
 * changed), so a held refactor costs one plan, not three.
 */
export class RefactorService {
  private readonly lastPlan = new Map<string, CachedPlan>();

  constructor(
    private readonly projects: TypeScriptProjects,
    private readonly files: FileService,
    /** Renames in files no TypeScript project covers; without it, those are refused as before. */
    private readonly languageServers?: LanguageServerRenames,
  ) {}

  /**
   * A rename, planned on the warm TypeScript project when it holds the file (or, by name
   * alone, declares the symbol), else through the workspace's language server. Either way
   * the answer is an edit plan, applied by `apply`.
   */
  async rename(workspace: Workspace, input: RenameInput): Promise<RefactorPlan> {
    const typescript = () => this.plan(workspace, 'refactor_rename', planRename, input);
    if (!this.languageServers) return typescript();
    if (input.path !== undefined) return (await this.projects.covers(workspace, input.path)) ? typescript() : this.languageServers.plan(workspace, input);
    try {
      return await typescript();
    } catch (error) {
      if (!(error instanceof CodeBuddyError && error.code === 'E_NOT_FOUND')) throw error;
      try {
        // By name, a server may find it in a file the TypeScript project holds after all: not this engine's to rename.
        return await this.languageServers.plan(workspace, input, (path) => this.projects.covers(workspace, path));
      } catch (other) {
        // No server knows the name either (or none concerns this workspace): the first answer says it best.
        if (other instanceof CodeBuddyError && (other.code === 'E_NOT_FOUND' || other.code === 'E_UNSUPPORTED')) throw error;
        throw other;
      }
    }
  }

  async plan<I>(workspace: Workspace, operation: string, planner: Planner<I>, input: I): Promise<RefactorPlan> {
    const key = `${operation}\0${JSON.stringify(input)}`;
    for (let attempt = 1; attempt <= PLAN_ATTEMPTS; attempt++) {
      try {
        return await this.projects.use(workspace, (warm) => {
          const cached = this.lastPlan.get(workspace.id);
          if (cached && cached.key === key && cached.generation === warm.generation) return cached.plan;
          const plan = planner(new PlanBuilder(warm), input);
          this.lastPlan.set(workspace.id, { key, generation: warm.generation, plan });
          return plan;
        });
      } catch (error) {
        if (!(error instanceof ProjectCopyOutdated)) throw error;
        // The disk moved on before the watcher said so: re-read that file and plan again.
        this.projects.markChanged(workspace.id, error.path);
      }
    }
    throw new CodeBuddyError('E_CONFLICT', 'files kept changing while the refactor was planned; try again when they settle');
  }

  /**
   * Applies a plan: every file or none, each checked against the sha256 it was planned from.
   * After an approval, the plan made now must stand on the very versions the approver saw.
   */
  async apply(workspace: Workspace, plan: RefactorPlan, call: ApplyCall): Promise<void> {
    if (call.approvedBases) {
      const now = planBases(plan);
      const approved = call.approvedBases;
      const changed = [...new Set([...Object.keys(now), ...Object.keys(approved)])].filter((path) => now[path] !== approved[path]);
      if (changed.length > 0) throw new CodeBuddyError('E_STALE_PROPOSAL', `${changed.join(', ')} changed after the refactor was approved; nothing was changed`, { changed });
    }
    this.lastPlan.delete(workspace.id);
    await this.files.applyChangeSet(workspace, planChangeSet(plan), call);
  }
}
