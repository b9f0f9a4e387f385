import { CodeBuddyError } from '../core/errors.js';
import type { ChangeCall, FileService } from '../files/file-service.js';
import type { Workspace } from '../workspaces/workspace.js';
import type { LanguageServerRenames } from './language-server-rename.js';
import { planBases, planChangeSet, type RefactorPlan } from './refactor-plan.js';
import type { PlannerInputs, PlannerName } from './refactor-protocol.js';
import type { RenameInput } from './rename.js';
import type { PlanOptions, TypeScriptProjects } from './typescript-projects.js';

/** What an approval carries into the apply: the base versions the approver saw. */
export interface ApplyCall extends ChangeCall {
  approvedBases?: Record<string, string | null>;
}

/**
 * Plans refactors — TypeScript and JavaScript in the refactoring worker, on the
 * workspace's warm project (typescript-projects.ts); other languages through their
 * language server — and applies plans through the file service, atomically, here on the
 * main thread: the plan's sha256 base versions are checked as the files are swapped.
 */
export class RefactorService {
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
  async rename(workspace: Workspace, input: RenameInput, options: PlanOptions = {}): Promise<RefactorPlan> {
    const typescript = () => this.plan(workspace, 'rename', input, options);
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

  /** A TypeScript refactor's plan, made in the worker (or the same request's plan again, while nothing changed). */
  plan<N extends PlannerName>(workspace: Workspace, planner: N, input: PlannerInputs[N], options: PlanOptions = {}): Promise<RefactorPlan> {
    return this.projects.plan(workspace, planner, input, options);
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
    this.projects.forgetPlan(workspace.id);
    await this.files.applyChangeSet(workspace, planChangeSet(plan), call);
  }
}
