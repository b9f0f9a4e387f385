import { ts } from 'ts-morph';
import { CodeBuddyError } from '../core/errors.js';
import { formatSettings, preferences } from './move.js';
import type { PlanBuilder } from './plan-builder.js';
import { applySpans, type RefactorPlan } from './refactor-plan.js';
import { assertIdentifier } from './rename.js';
import { nodeAt } from './symbol-target.js';

export interface ExtractInput {
  path: string;
  range: { start: { line: number; column: number }; end: { line: number; column: number } };
  kind: 'function' | 'constant' | 'variable';
  name: string;
}

const EXTRACT = 'Extract Symbol';

/**
 * The compiler's "Extract Symbol" on a range, into the innermost scope: inside a class
 * method, `function` extracts a private method of the class; `constant` a local `const`,
 * `variable` a local `let`. The compiler names what it extracts (`newMethod`, `newLocal`);
 * that name is replaced by the one asked for, refused when it is already taken there.
 */
export function planExtract(builder: PlanBuilder, input: ExtractInput): RefactorPlan {
  assertIdentifier(input.name, 'name');
  const file = builder.sourceFile(input.path);
  const fileName = file.getFilePath() as string;
  const pos = builder.offsetOf(file, input.range.start.line, input.range.start.column, 'range.start');
  const end = builder.offsetOf(file, input.range.end.line, input.range.end.column, 'range.end');
  if (end <= pos) throw new CodeBuddyError('E_INVALID_ARGUMENT', 'range.end must come after range.start', { field: 'range' });
  const range = { pos, end };
  const service = builder.languageService;
  // The compiler lists its functions and its constants as two "Extract Symbol" entries, one action per scope.
  const actions = service
    .getApplicableRefactors(fileName, range, { ...preferences, provideRefactorNotApplicableReason: true }, 'invoked', undefined, false)
    .filter((refactor) => refactor.name === EXTRACT)
    .flatMap((refactor) => refactor.actions);
  const action = input.kind === 'function' ? functionAction(actions) : actions.find((candidate) => candidate.name === 'constant_scope_0');
  if (!action || action.notApplicableReason) {
    throw new CodeBuddyError('E_INVALID_ARGUMENT', `cannot extract a ${input.kind} from that range${action?.notApplicableReason ? `: ${action.notApplicableReason}` : ' (select whole statements or one whole expression inside a function or method)'}`, { field: 'range' });
  }
  const edits = service.getEditsForRefactor(fileName, formatSettings, range, EXTRACT, action.name, preferences);
  if (!edits || edits.renameLocation === undefined) throw new CodeBuddyError('E_INVALID_ARGUMENT', 'the compiler could not extract that range', { field: 'range' });
  const changes = edits.edits.find((change) => change.fileName === fileName)?.textChanges ?? [];
  const extracted = applySpans(file.getFullText(), changes.map((change) => ({ start: change.span.start, length: change.span.length, newText: change.newText })));
  const generated = /^[\w$]+/.exec(extracted.slice(edits.renameLocation))?.[0];
  if (!generated) throw new CodeBuddyError('E_INTERNAL', 'the compiler gave no name for the extracted symbol');
  assertNameFree(builder, file.compilerNode, pos, input);

  const word = new RegExp(`(?<![\\w$])${generated.replace(/\$/g, '\\$')}(?![\\w$])`, 'g');
  for (const change of changes) {
    let newText = change.newText.replace(word, input.name);
    if (input.kind === 'variable') newText = newText.replace(new RegExp(`\\bconst ${input.name}\\b`), `let ${input.name}`);
    builder.change(fileName, { start: change.span.start, length: change.span.length, newText });
  }
  return builder.build(`extract ${input.kind} ${input.name} from ${builder.relative(fileName)}:${input.range.start.line}`);
}

/**
 * Where an extracted function goes: a method of the class when the range is in a method
 * (an inner function would lose `this`), else a function at module scope, else the
 * innermost scope the compiler offers.
 */
function functionAction(actions: ts.RefactorActionInfo[]): ts.RefactorActionInfo | undefined {
  const functions = actions.filter((candidate) => candidate.name.startsWith('function_scope_') && !candidate.notApplicableReason);
  return (
    functions.find((candidate) => candidate.description.startsWith('Extract to method in class')) ??
    functions.find((candidate) => candidate.description.startsWith('Extract to function in module scope')) ??
    functions[0] ??
    actions.find((candidate) => candidate.name.startsWith('function_scope_'))
  );
}

/** The new name must not already mean something where it lands: a member of the class, or a name in scope. */
function assertNameFree(builder: PlanBuilder, file: ts.SourceFile, position: number, input: ExtractInput): void {
  const checker = builder.program.getTypeChecker() as ts.TypeChecker & { resolveName?(name: string, location: ts.Node, meaning: ts.SymbolFlags, excludeGlobals: boolean): ts.Symbol | undefined };
  const node = nodeAt(file, position);
  if (!node) return;
  const taken = (symbol: ts.Symbol | undefined, where: string) => {
    if (!symbol) return;
    const declaration = symbol.declarations?.[0];
    const at = declaration ? builder.where(declaration.getSourceFile().fileName, declaration.getStart()) : '(a global)';
    throw new CodeBuddyError('E_CONFLICT', `${input.name} is already ${where}: ${at}; nothing was changed`, { field: 'name', collision: at });
  };
  const owner = ts.findAncestor(node, ts.isClassLike);
  const method = ts.findAncestor(node, (ancestor) => ts.isMethodDeclaration(ancestor) || ts.isConstructorDeclaration(ancestor) || ts.isGetAccessor(ancestor) || ts.isSetAccessor(ancestor));
  if (input.kind === 'function' && owner && method) {
    const symbol = owner.name ? checker.getSymbolAtLocation(owner.name) : undefined;
    taken(symbol ? checker.getDeclaredTypeOfSymbol(symbol).getProperty(input.name) : undefined, 'a member of that class');
    return;
  }
  taken(checker.resolveName?.(input.name, node, ts.SymbolFlags.Value, true), 'declared there');
}
