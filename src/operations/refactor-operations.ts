import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { CodeBuddyError } from '../core/errors.js';
import { moreMarker } from '../core/more-marker.js';
import { isEmptyPlan, planBases, planDiff, planDigest, planPaths, touchedFiles, type RefactorPlan } from '../refactor/refactor-plan.js';
import type { PlannerInputs, PlannerName } from '../refactor/refactor-protocol.js';
import type { RefactorService } from '../refactor/refactor-service.js';
import type { PlanOptions } from '../refactor/typescript-projects.js';
import type { Workspace } from '../workspaces/workspace.js';
import { workspaceOperation, type Operation } from './operation.js';

/** Diff characters per answer page: a rename across many files pages rather than floods. */
const DIFF_PAGE_CHARS = 6_000;
/** Touched files listed in one answer's text (the structured output lists them all). */
const LISTED_FILES = 100;
/** What an approver sees of a held refactor: the whole diff up to this size. */
const PREVIEW_CHARS = 200_000;

const path = z.string().min(1).max(4096);
const line = z.number().int().min(1);
const column = z.number().int().min(1);
const identifier = z.string().min(1).max(200);
const common = {
  dry_run: z.boolean().optional().describe('Return the plan; change nothing'),
  cursor: z.string().max(8192).optional().describe('Next page of a dry run'),
};
const target = {
  symbol: z.string().min(1).max(400).optional().describe('Name, or Container.member'),
  path: path.optional().describe('With line and column, instead of symbol'),
  line: line.optional(),
  column: column.optional(),
};

const output = z.object({
  applied: z.boolean(),
  summary: z.string(),
  files: z.array(z.object({ path: z.string(), change: z.enum(['edited', 'created', 'deleted', 'moved']), from: z.string().optional(), added: z.number(), removed: z.number() })),
  diff: z.string(),
  next_cursor: z.string().optional(),
});
type Output = z.infer<typeof output>;

const SIGNS = { edited: 'M', created: 'A', deleted: 'D', moved: 'R' } as const;

function render(out: Output): string {
  const head = `${out.applied ? 'applied' : out.files.length === 0 ? 'nothing to change' : 'dry run, nothing changed'}: ${out.summary}`;
  const listed = out.files.slice(0, LISTED_FILES).map((file) => `${SIGNS[file.change]} ${file.from ? `${file.from} -> ` : ''}${file.path} (+${file.added} -${file.removed})`);
  if (out.files.length > LISTED_FILES) listed.push(`…and ${out.files.length - LISTED_FILES} more files (structured output lists all)`);
  const page = out.diff === '' ? '' : `\n${out.diff.replace(/\n$/, '')}`;
  return `${head}${listed.length ? `\n${listed.join('\n')}` : ''}${page}${moreMarker(out.next_cursor, 'diff page shown')}`;
}

/** One page of the compact diff, cut at a line end. */
function diffPage(diff: string, offset: number): { text: string; next?: number } {
  if (diff.length - offset <= DIFF_PAGE_CHARS) return { text: diff.slice(offset) };
  const cut = diff.lastIndexOf('\n', offset + DIFF_PAGE_CHARS);
  const end = cut > offset ? cut + 1 : offset + DIFF_PAGE_CHARS;
  return { text: diff.slice(offset, end), next: end };
}

/**
 * The shape every refactor shares: plan first (the same plan serves the policy check, the
 * preview a human approves and the run), then apply atomically, or answer the plan for a
 * dry run. A dry run is a read: it is never held and changes nothing.
 */
function refactorOperation<S extends z.ZodRawShape, I>(
  refactors: RefactorService,
  spec: {
    name: string;
    title: string;
    description: string;
    destructive?: boolean;
    input: S;
    request(input: z.output<z.ZodObject<S>>): I;
    /** Plans the request: in the refactoring worker, or (a rename) through a language server. */
    plan(workspace: Workspace, request: I, options: PlanOptions): Promise<RefactorPlan>;
  },
): Operation {
  const schema = z.object({ ...spec.input, ...common });
  type Input = z.output<typeof schema>;
  const plan = (input: Input, workspace: Workspace, options: PlanOptions = {}) => spec.plan(workspace, spec.request(input as z.output<z.ZodObject<S>>), options);
  return workspaceOperation({
    name: spec.name,
    title: spec.title,
    description: spec.description,
    effect: 'write',
    effectOf: (args) => (args.dry_run === true ? 'read' : 'write'),
    idempotent: false,
    destructive: spec.destructive ?? false,
    input: schema,
    output,
    // Every path the plan touches, both ends of a move: a rule denying one file refuses the whole refactor.
    policySubject: async (input, workspace, needs) => (needs.paths ? { paths: planPaths(await plan(input, workspace)) } : { paths: [] }),
    async preview(input, workspace) {
      const made = await plan(input, workspace, { preview: true });
      const diff = planDiff(made, 3);
      const text = `${made.summary}\n${diff.length > PREVIEW_CHARS ? `${diff.slice(0, PREVIEW_CHARS)}\n…[diff cut at ${PREVIEW_CHARS} chars]` : diff}`;
      return { text, bases: planBases(made) };
    },
    async run(input, workspace, context) {
      const { dry_run: dryRun, cursor } = input as { dry_run?: boolean; cursor?: string };
      if (cursor !== undefined && dryRun !== true) throw new CodeBuddyError('E_INVALID_ARGUMENT', 'cursor pages a dry run: pass dry_run: true with it', { field: 'cursor' });
      const made = await plan(input, workspace, { signal: context.signal });
      const digest = planDigest(made);
      let offset = 0;
      if (cursor !== undefined) {
        const state = decodeCursor<{ digest: string; offset: number }>(spec.name, cursor);
        if (state.digest !== digest) throw new CodeBuddyError('E_INVALID_CURSOR', 'the plan changed since that page (files changed); call again without cursor', { field: 'cursor' });
        offset = state.offset;
      }
      if (dryRun !== true && !isEmptyPlan(made)) await refactors.apply(workspace, made, context);
      const page = diffPage(planDiff(made, 1), offset);
      const result: Output = { applied: dryRun !== true && !isEmptyPlan(made), summary: made.summary, files: touchedFiles(made), diff: page.text };
      // A dry run pages by planning again; an applied plan's files are there to read.
      if (page.next !== undefined) {
        if (dryRun === true) result.next_cursor = encodeCursor(spec.name, { digest, offset: page.next });
        else result.diff += `…[diff cut; the files are written: read them for the rest]\n`;
      }
      return result;
    },
    render,
  });
}

export function refactorOperations(refactors: RefactorService): Operation[] {
  const inWorker =
    <N extends PlannerName>(planner: N) =>
    (workspace: Workspace, request: PlannerInputs[N], options: PlanOptions) =>
      refactors.plan(workspace, planner, request, options);
  return [
    refactorOperation(refactors, {
      name: 'refactor_rename',
      title: 'Rename symbol',
      description: 'Rename a symbol and every reference across files (TS/JS; other languages via their language server), atomically.',
      input: { ...target, new_name: identifier },
      plan: (workspace, request: PlannerInputs['rename'], options) => refactors.rename(workspace, request, options),
      request: (input) => ({ symbol: input.symbol, path: input.path, line: input.line, column: input.column, new_name: input.new_name }),
    }),
    refactorOperation(refactors, {
      name: 'refactor_move',
      title: 'Move module',
      description: 'Move a file or directory and update every import of it (TS/JS), atomically.',
      input: { from: path, to: path },
      plan: inWorker('move'),
      request: (input) => ({ from: input.from, to: input.to }),
    }),
    refactorOperation(refactors, {
      name: 'refactor_organize_imports',
      title: 'Organize imports',
      description: 'Remove unused imports, then merge and sort the rest, in a file or a glob of files.',
      input: { path: path.describe('File, or glob like src/**/*.ts') },
      plan: inWorker('organize_imports'),
      request: (input) => ({ path: input.path }),
    }),
    refactorOperation(refactors, {
      name: 'refactor_extract',
      title: 'Extract code',
      description: 'Extract a range in a function or method into a new function/method, constant or variable.',
      input: {
        path,
        range: z.strictObject({ start: z.strictObject({ line, column }), end: z.strictObject({ line, column }) }).describe('1-based; end exclusive'),
        kind: z.enum(['function', 'constant', 'variable']),
        name: identifier,
      },
      plan: inWorker('extract'),
      request: (input) => ({ path: input.path, range: input.range, kind: input.kind, name: input.name }),
    }),
    refactorOperation(refactors, {
      name: 'refactor_signature',
      title: 'Change signature',
      description: "Add, remove or reorder a function's parameters and update every call site.",
      input: {
        ...target,
        change: z.discriminatedUnion('action', [
          z.strictObject({
            action: z.literal('add'),
            name: identifier,
            type: z.string().min(1).max(500).optional(),
            value: z.string().min(1).max(2000).describe('Argument for existing calls'),
            index: z.number().int().min(0).optional().describe('Default: last'),
          }),
          z.strictObject({ action: z.literal('remove'), name: identifier }),
          z.strictObject({ action: z.literal('reorder'), order: z.array(identifier).min(1).max(100) }),
        ]),
      },
      plan: inWorker('signature'),
      request: (input) => ({ symbol: input.symbol, path: input.path, line: input.line, column: input.column, change: input.change }),
    }),
  ];
}
