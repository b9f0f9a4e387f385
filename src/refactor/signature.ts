import { ts } from 'ts-morph';
import { CodeBuddyError } from '../core/errors.js';
import type { PlanBuilder } from './plan-builder.js';
import type { RefactorPlan } from './refactor-plan.js';
import { assertIdentifier } from './rename.js';
import { locateTarget, nodeAt, type SymbolTarget } from './symbol-target.js';

export type SignatureChange =
  | { action: 'add'; name: string; type?: string | undefined; value: string; index?: number | undefined }
  | { action: 'remove'; name: string }
  | { action: 'reorder'; order: string[] };

export interface SignatureInput extends SymbolTarget {
  change: SignatureChange;
}

type FunctionLike = ts.FunctionDeclaration | ts.MethodDeclaration | ts.FunctionExpression | ts.ArrowFunction | ts.ConstructorDeclaration;

/**
 * A function's or method's parameters changed, and every call site with them: an added
 * parameter gets `value` at each existing call; a removed one loses its argument (refused
 * while the body still uses it); a reorder permutes the arguments. A function used other
 * than by calling it (passed as a value, overloaded) is refused: its callers cannot be
 * found and updated.
 */
export function planSignature(builder: PlanBuilder, input: SignatureInput): RefactorPlan {
  const { fileName, position } = locateTarget(builder, input);
  const program = builder.program;
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(fileName)!;
  const node = nodeAt(file, position);
  let symbol = node && checker.getSymbolAtLocation(node);
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  const declarations = (symbol?.declarations ?? []).map(functionOf).filter((declaration): declaration is FunctionLike => declaration !== undefined);
  if (declarations.length === 0) throw new CodeBuddyError('E_INVALID_ARGUMENT', `${builder.where(fileName, position)} is not a function or method`, { field: 'symbol' });
  if (declarations.length > 1 || declarations.some((declaration) => !declaration.body)) {
    throw new CodeBuddyError('E_CONFLICT', `${symbol!.name} has overloads or no body; change its signatures by hand`, { field: 'symbol' });
  }
  const declaration = declarations[0]!;
  const parameters = declaration.parameters;
  const names = parameters.map((parameter) => (ts.isIdentifier(parameter.name) ? parameter.name.text : undefined));
  const indexOf = (name: string, field: string) => {
    const index = names.indexOf(name);
    if (index < 0) throw new CodeBuddyError('E_INVALID_ARGUMENT', `${symbol!.name} has no parameter ${name} (it has ${names.filter(Boolean).join(', ') || 'none'})`, { field });
    return index;
  };

  // The new order: each entry an existing parameter's index, or -1 for the one added.
  let order: number[];
  const change = input.change;
  if (change.action === 'add') {
    assertIdentifier(change.name, 'change.name');
    if (names.includes(change.name)) throw new CodeBuddyError('E_CONFLICT', `${symbol!.name} already has a parameter ${change.name}`, { field: 'change.name' });
    const at = Math.min(change.index ?? parameters.length, parameters.length);
    order = parameters.map((_, index) => index);
    order.splice(at, 0, -1);
  } else if (change.action === 'remove') {
    const removed = indexOf(change.name, 'change.name');
    assertUnused(builder, parameters[removed]!, change.name);
    order = parameters.map((_, index) => index).filter((index) => index !== removed);
  } else {
    order = change.order.map((name) => indexOf(name, 'change.order'));
    if (new Set(order).size !== parameters.length || order.length !== parameters.length) {
      throw new CodeBuddyError('E_INVALID_ARGUMENT', `change.order must name each of ${names.join(', ')} once`, { field: 'change.order' });
    }
  }

  const parameterText = (index: number) => (index >= 0 ? parameters[index]!.getText() : `${(change as { name: string }).name}${(change as { type?: string }).type ? `: ${(change as { type?: string }).type}` : ''}`);
  builder.change(file.fileName, { start: parameters.pos, length: parameters.end - parameters.pos, newText: order.map(parameterText).join(', ') });

  // Every call site, found by the compiler's references.
  let calls = 0;
  const referenced = builder.languageService.findReferences(fileName, position) ?? [];
  for (const reference of referenced.flatMap((entry) => entry.references)) {
    const referenceFile = program.getSourceFile(reference.fileName)!;
    const at = nodeAt(referenceFile, reference.textSpan.start);
    if (!at || reference.isDefinition || isImportOrExport(at)) continue;
    const call = callOf(at);
    if (!call) throw new CodeBuddyError('E_CONFLICT', `${symbol!.name} is used other than called at ${builder.where(reference.fileName, reference.textSpan.start)}; that use cannot be updated`, { field: 'symbol' });
    const args = call.arguments ?? ts.factory.createNodeArray();
    if (args.some(ts.isSpreadElement)) throw new CodeBuddyError('E_CONFLICT', `the call at ${builder.where(reference.fileName, call.getStart())} spreads its arguments; update it by hand`, { field: 'symbol' });
    // A reorder needs every argument that moves, or that something moves past.
    const needed = Math.max(0, ...order.map((index, position) => (index === position ? 0 : Math.max(index, position) + 1)));
    if (change.action === 'reorder' && args.length < needed) {
      throw new CodeBuddyError('E_CONFLICT', `the call at ${builder.where(reference.fileName, call.getStart())} omits arguments that would move; update it by hand`, { field: 'change.order' });
    }
    const argumentText = (index: number) => (index === -1 ? (change as { value: string }).value : (args[index]?.getText() ?? 'undefined'));
    // Keep the call's arguments up to the last one it gives (or the added one).
    let kept = order.map(argumentText);
    const last = Math.max(...order.map((index, position) => (index === -1 || (index >= 0 && index < args.length) ? position : -1)));
    kept = kept.slice(0, last + 1);
    const newText = kept.join(', ');
    if (call.arguments === undefined) builder.change(reference.fileName, { start: call.expression.getEnd(), length: 0, newText: `(${newText})` });
    else builder.change(reference.fileName, { start: args.pos, length: args.end - args.pos, newText });
    calls++;
  }
  const what = change.action === 'reorder' ? `reorder parameters to (${change.order.join(', ')})` : `${change.action} parameter ${change.name}`;
  return builder.build(`signature of ${symbol!.name}: ${what}; ${calls} call site${calls === 1 ? '' : 's'} updated`);
}

function functionOf(declaration: ts.Declaration): FunctionLike | undefined {
  if (ts.isFunctionDeclaration(declaration) || ts.isMethodDeclaration(declaration) || ts.isConstructorDeclaration(declaration)) return declaration;
  if (ts.isVariableDeclaration(declaration) && declaration.initializer && (ts.isArrowFunction(declaration.initializer) || ts.isFunctionExpression(declaration.initializer))) return declaration.initializer;
  if (ts.isClassDeclaration(declaration)) return declaration.members.find(ts.isConstructorDeclaration);
  return undefined;
}

function isImportOrExport(node: ts.Node): boolean {
  return ts.isImportSpecifier(node.parent) || ts.isExportSpecifier(node.parent) || ts.isImportClause(node.parent);
}

/** The call (or `new`) whose callee is this reference: `f(…)`, `obj.f(…)`, `new C(…)`. */
function callOf(node: ts.Node): ts.CallExpression | ts.NewExpression | undefined {
  let callee: ts.Node = node;
  if (ts.isPropertyAccessExpression(node.parent) && node.parent.name === node) callee = node.parent;
  const parent = callee.parent;
  if ((ts.isCallExpression(parent) || ts.isNewExpression(parent)) && parent.expression === callee) return parent;
  return undefined;
}

function assertUnused(builder: PlanBuilder, parameter: ts.ParameterDeclaration, name: string): void {
  const file = parameter.getSourceFile();
  const references = builder.languageService.findReferences(file.fileName, parameter.name.getStart()) ?? [];
  const use = references.flatMap((entry) => entry.references).find((reference) => !reference.isDefinition);
  if (use) throw new CodeBuddyError('E_CONFLICT', `parameter ${name} is still used at ${builder.where(use.fileName, use.textSpan.start)}; remove that use first`, { field: 'change.name' });
}
