import type { ErrorCode } from '../core/errors.js';
import type { ExtractInput } from './extract.js';
import type { MoveInput } from './move.js';
import type { OrganizeImportsInput } from './organize-imports.js';
import type { RefactorPlan } from './refactor-plan.js';
import type { RenameInput } from './rename.js';
import type { SignatureInput } from './signature.js';

/*
 * What the main thread and the refactoring worker (refactor-worker.ts) say to each other.
 * Types only: the main thread loads no compiler through this file.
 */

/** The planners the worker runs, by name, with their inputs. */
export interface PlannerInputs {
  rename: RenameInput;
  move: MoveInput;
  organize_imports: OrganizeImportsInput;
  extract: ExtractInput;
  signature: SignatureInput;
}
export type PlannerName = keyof PlannerInputs;

/** Fixed for the worker's life. */
export interface RefactorWorkerData {
  maxSourceFiles: number;
  maxFileBytes: number;
}

/**
 * A project in the worker is named by a key the main thread gives each warm project it
 * tracks (`<workspace id>#<n>`): a project dropped and loaded again is a new key, so a
 * late message about the old one never touches the new.
 */
export interface ProjectRef {
  key: string;
  root: string;
}

/** Requests that answer, one at a time. */
export type RefactorJob =
  | { kind: 'plan'; project: ProjectRef; planner: PlannerName; input: unknown; preview: boolean }
  | { kind: 'covers'; project: ProjectRef; path: string };

/** Notices that do not answer: they reach the worker in order with the jobs, and apply before the next job. */
export type RefactorNotice =
  | { kind: 'changed'; key: string; paths: string[] }
  | { kind: 'drop'; key: string };

export type RefactorRequest = (RefactorJob & { id: number }) | RefactorNotice;

/** A CodeBuddyError as it crosses the thread boundary: its stable code, message and details. */
export interface Failure {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
  /** A bug's stack, for the server log (the caller sees only E_INTERNAL). */
  internal?: string;
}

/** `held`: whether the worker holds the job's project afterwards (a project too large to load is not held). */
export type RefactorResponse =
  | { id: number; ok: true; result: RefactorPlan | boolean; held: boolean; ms: number }
  | { id: number; ok: false; failure: Failure; held: boolean };
