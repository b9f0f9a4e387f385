import { createTwoFilesPatch } from 'diff';
import type { ChangeSetEntry } from '../files/change-set.js';
import { sha256 } from '../files/text-content.js';
import { diffFromEdits } from './edit-diff.js';

/**
 * What a refactor will do, computed before anything changes: per file, the text it was
 * planned from (and that text's sha256, checked again at apply) and the text it becomes.
 * A move keeps the file's identity (`from` → `to`); its content may change on the way
 * (its own imports). Non-text files carried by a directory move have no text, only bytes.
 */
export type FileStep =
  | { kind: 'edit'; path: string; base: string; before: string; after: string; edits?: TextEdit[] }
  | { kind: 'create'; path: string; after: string }
  | { kind: 'delete'; path: string; base: string; before: string }
  | { kind: 'move'; from: string; to: string; base: string; before: string | undefined; after: string | Buffer };

/**
 * A replacement in `before` (UTF-16 offsets). An edit step that knows its edits (those
 * the compiler planned) has its diff written from them, without a diff search.
 */
export interface TextEdit {
  start: number;
  length: number;
  newText: string;
}

export interface RefactorPlan {
  /** One line saying what the refactor does (e.g. `rename formatCents → formatMoney: 9 references in 4 files`). */
  summary: string;
  steps: FileStep[];
  /** Directories a directory move leaves behind, removed if empty after the apply. */
  emptiedDirectories?: string[];
  /** What answers show of it, made once (renderPlan): by the worker that planned it, or on first use. */
  rendered?: RenderedPlan;
}

/**
 * A plan's diffs and file list. Diffing hundreds of files takes tens of milliseconds, so the
 * refactoring worker renders its plans before handing them over: the event loop only
 * reads the strings.
 */
export interface RenderedPlan {
  files: TouchedFile[];
  /** The compact diff an agent reads (1 line of context). */
  compact: string;
  /** The diff a human approving the plan reads (3 lines of context): rendered only when asked for (a held refactor). */
  preview?: string;
  digest: string;
}

/** One touched file as an answer lists it. */
export interface TouchedFile {
  path: string;
  change: 'edited' | 'created' | 'deleted' | 'moved';
  from?: string;
  added: number;
  removed: number;
}

/** A plan that would change nothing (a rename to the same name, imports already organized). */
export const isEmptyPlan = (plan: RefactorPlan) => plan.steps.length === 0;

/** Every path the plan touches, both ends of a move included: what a workspace policy judges. */
export function planPaths(plan: RefactorPlan): string[] {
  return [...new Set(plan.steps.flatMap((step) => (step.kind === 'move' ? [step.from, step.to] : [step.path])))].sort();
}

/** Path → sha256 the plan was computed against (null: no file there): a held plan's base versions. */
export function planBases(plan: RefactorPlan): Record<string, string | null> {
  const bases: Record<string, string | null> = {};
  for (const step of plan.steps) {
    if (step.kind === 'move') {
      bases[step.from] = step.base;
      bases[step.to] = null;
    } else bases[step.path] = step.kind === 'create' ? null : step.base;
  }
  return bases;
}

/** The plan as the file service applies it: every path with the sha256 it must have and what it becomes. */
export function planChangeSet(plan: RefactorPlan): { entries: ChangeSetEntry[]; moves: { from: string; to: string }[]; emptiedDirectories?: string[] } {
  const entries: ChangeSetEntry[] = [];
  const moves: { from: string; to: string }[] = [];
  for (const step of plan.steps) {
    switch (step.kind) {
      case 'edit':
        entries.push({ path: step.path, base: step.base, content: Buffer.from(step.after, 'utf8') });
        break;
      case 'create':
        entries.push({ path: step.path, base: null, content: Buffer.from(step.after, 'utf8') });
        break;
      case 'delete':
        entries.push({ path: step.path, base: step.base, content: null });
        break;
      case 'move':
        entries.push({ path: step.from, base: step.base, content: null });
        entries.push({ path: step.to, base: null, content: typeof step.after === 'string' ? Buffer.from(step.after, 'utf8') : step.after });
        moves.push({ from: step.from, to: step.to });
        break;
    }
  }
  return { entries, moves, ...(plan.emptiedDirectories ? { emptiedDirectories: plan.emptiedDirectories } : {}) };
}

/** Lines added and removed between two texts (a cheap count from the same diff the preview shows). */
function counts(patch: string): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const line of patch.split('\n')) {
    if (line.startsWith('+') && !line.startsWith('+++')) added++;
    else if (line.startsWith('-') && !line.startsWith('---')) removed++;
  }
  return { added, removed };
}

/** The unified diff of one step; `context` lines around each change. */
function stepDiff(step: FileStep, context: number): string {
  const patch = (from: string, to: string, before: string, after: string) =>
    // The first line is jsdiff's `===` banner; headers lose the tab it puts before an empty date.
    createTwoFilesPatch(from, to, before, after, '', '', { context })
      .split('\n')
      .slice(1)
      .map((line) => (line.startsWith('--- ') || line.startsWith('+++ ') ? line.trimEnd() : line))
      .join('\n');
  switch (step.kind) {
    case 'edit':
      return (step.edits && diffFromEdits(`a/${step.path}`, `b/${step.path}`, step.before, step.edits, context)) ?? patch(`a/${step.path}`, `b/${step.path}`, step.before, step.after);
    case 'create':
      return patch('/dev/null', `b/${step.path}`, '', step.after);
    case 'delete':
      return patch(`a/${step.path}`, '/dev/null', step.before, '');
    case 'move': {
      const header = `rename from ${step.from}\nrename to ${step.to}\n`;
      if (step.before === undefined || typeof step.after !== 'string') return `${header}(binary file, content unchanged)\n`;
      return step.before === step.after ? header : header + patch(`a/${step.from}`, `b/${step.to}`, step.before, step.after);
    }
  }
}

/** Renders a plan's diffs and file list (the preview too when asked); the line counts come from the compact diff (context lines are not counted). */
export function renderPlan(plan: RefactorPlan, options: { preview?: boolean } = {}): RenderedPlan {
  const compactSteps = plan.steps.map((step) => stepDiff(step, 1));
  const files = plan.steps.map((step, index): TouchedFile => {
    const { added, removed } = counts(compactSteps[index]!);
    switch (step.kind) {
      case 'edit':
        return { path: step.path, change: 'edited', added, removed };
      case 'create':
        return { path: step.path, change: 'created', added, removed };
      case 'delete':
        return { path: step.path, change: 'deleted', added, removed };
      case 'move':
        return { path: step.to, change: 'moved', from: step.from, added, removed };
    }
  });
  const compact = compactSteps.join('');
  return {
    files,
    compact,
    ...(options.preview ? { preview: previewDiff(plan) } : {}),
    // A fingerprint of the plan: equal plans, equal digests (a dry run's cursor checks it).
    digest: sha256(JSON.stringify(planBases(plan)) + compact).slice(0, 16),
  };
}

const previewDiff = (plan: RefactorPlan) => plan.steps.map((step) => stepDiff(step, 3)).join('');
const rendering = (plan: RefactorPlan): RenderedPlan => (plan.rendered ??= renderPlan(plan));

/** The files an answer lists, in plan order. */
export function touchedFiles(plan: RefactorPlan): TouchedFile[] {
  return rendering(plan).files;
}

/**
 * The whole plan as one unified diff: what a human approving it reads (3 lines of
 * context), or the compact form an agent reads (1 line).
 */
export function planDiff(plan: RefactorPlan, context: 1 | 3): string {
  if (context === 1) return rendering(plan).compact;
  const rendered = rendering(plan);
  return (rendered.preview ??= previewDiff(plan));
}

/** A fingerprint of the plan: equal plans, equal digests (a dry run's cursor checks it). */
export function planDigest(plan: RefactorPlan): string {
  return rendering(plan).digest;
}

/** Applies text changes (spans into `text`, in any order, not overlapping) to `text`. */
export function applySpans(text: string, changes: readonly { start: number; length: number; newText: string }[]): string {
  const sorted = [...changes].sort((a, b) => b.start - a.start);
  let result = text;
  for (const change of sorted) result = result.slice(0, change.start) + change.newText + result.slice(change.start + change.length);
  return result;
}
