import { ts } from 'ts-morph';
import { CodeBuddyError } from '../core/errors.js';
import type { PlanBuilder } from './plan-builder.js';
import type { RefactorPlan } from './refactor-plan.js';
import { locateTarget, nodeAt, type SymbolTarget } from './symbol-target.js';

export interface RenameInput extends SymbolTarget {
  new_name: string;
}

/** A name the new identifier may take: an identifier that is not a reserved word. */
export function assertIdentifier(name: string, field: string): void {
  // The compiler's own scanner decides: one token, an identifier (a reserved word scans as its keyword).
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, name);
  const token = scanner.scan();
  const reserved = token >= ts.SyntaxKind.FirstReservedWord && token <= ts.SyntaxKind.LastReservedWord;
  const whole = scanner.getTokenEnd() === name.length && scanner.scan() === ts.SyntaxKind.EndOfFileToken;
  if (!whole || reserved || (token !== ts.SyntaxKind.Identifier && !(token >= ts.SyntaxKind.FirstKeyword && token <= ts.SyntaxKind.LastKeyword))) {
    throw new CodeBuddyError('E_INVALID_ARGUMENT', `${JSON.stringify(name)} is not a valid identifier`, { field });
  }
}

/**
 * Every reference to a symbol renamed, across files. Re-exports and imports are renamed
 * along (`export { a } from` becomes `export { b } from`, and the importers of the index
 * follow), so the old name disappears; a shorthand property keeps its property name
 * (`{ count }` becomes `{ count: total }`) when a variable is renamed, and keeps its value
 * (`{ total: count }`) when the property is. A new name that would collide with, shadow, or
 * be shadowed by another declaration is refused with E_CONFLICT naming it.
 */
export function planRename(builder: PlanBuilder, input: RenameInput): RefactorPlan {
  assertIdentifier(input.new_name, 'new_name');
  const { fileName, position } = locateTarget(builder, input);
  const service = builder.languageService;
  const info = service.getRenameInfo(fileName, position, { allowRenameOfImportPath: false });
  if (!info.canRename) throw new CodeBuddyError('E_INVALID_ARGUMENT', `cannot rename at ${builder.where(fileName, position)}: ${info.localizedErrorMessage}`, { field: 'symbol' });
  const oldName = info.displayName;
  if (oldName === input.new_name) return { summary: `${oldName} already has that name`, steps: [] };
  // Without prefix and suffix text a rename runs through re-exports and imports; shorthand
  // properties, where that would change an object's shape, are written out below instead.
  const locations = service.findRenameLocations(fileName, position, false, false, { providePrefixAndSuffixTextForRename: false }) ?? [];
  const program = builder.program;
  const checker = program.getTypeChecker();
  const located = locations.map((location) => {
    const file = program.getSourceFile(location.fileName)!;
    return { location, file, node: nodeAt(file, location.textSpan.start) };
  });
  const start = located.find((entry) => entry.location.fileName === fileName && entry.location.textSpan.start <= position && position <= entry.location.textSpan.start + entry.location.textSpan.length);
  const targetSymbol = resolved(checker, start?.node && checker.getSymbolAtLocation(start.node));
  // The symbols at every reference (aliases and what they stand for), asked of the checker
  // only when a collision check meets the new name already bound: usually it never does.
  let renamedSymbols: Set<ts.Symbol> | undefined;
  const renamed = () => {
    if (renamedSymbols) return renamedSymbols;
    renamedSymbols = new Set<ts.Symbol>();
    for (const { node } of located) {
      const symbol = node && checker.getSymbolAtLocation(node);
      if (symbol) renamedSymbols.add(symbol).add(resolved(checker, symbol)!);
    }
    return renamedSymbols;
  };

  assertNoCollision(builder, located, renamed, targetSymbol, input.new_name);

  for (const { location, node } of located) {
    let newText = input.new_name;
    if (node && ts.isShorthandPropertyAssignment(node.parent) && node.parent.name === node) {
      const value = resolved(checker, checker.getShorthandAssignmentValueSymbol(node.parent));
      newText = value !== undefined && value === targetSymbol ? `${oldName}: ${input.new_name}` : `${input.new_name}: ${oldName}`;
    }
    builder.change(location.fileName, { start: location.textSpan.start, length: location.textSpan.length, newText });
  }
  const files = new Set(locations.map((location) => location.fileName)).size;
  return builder.build(`rename ${oldName} → ${input.new_name}: ${locations.length} reference${locations.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}`);
}

function resolved(checker: ts.TypeChecker, symbol: ts.Symbol | undefined): ts.Symbol | undefined {
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) {
    try {
      return checker.getAliasedSymbol(symbol);
    } catch {
      return symbol;
    }
  }
  return symbol;
}

/** The identifier names a member or a property, not something in lexical scope. */
function isPropertyName(node: ts.Node): boolean {
  const parent = node.parent;
  if (!parent) return false;
  if (ts.isPropertyAccessExpression(parent)) return parent.name === node;
  if (ts.isQualifiedName(parent)) return parent.right === node;
  if (ts.isShorthandPropertyAssignment(parent)) return false;
  if ((ts.isImportSpecifier(parent) || ts.isExportSpecifier(parent)) && parent.propertyName === node) return true;
  if (ts.isBindingElement(parent)) return parent.propertyName === node;
  const named = parent as ts.Node & { name?: ts.Node };
  return named.name === node && (ts.isClassElement(parent) || ts.isTypeElement(parent) || ts.isPropertyAssignment(parent) || ts.isEnumMember(parent) || ts.isJsxAttribute(parent));
}

type Located = { location: ts.RenameLocation; file: ts.SourceFile; node: ts.Node | undefined };

function assertNoCollision(builder: PlanBuilder, located: Located[], renamed: () => Set<ts.Symbol>, target: ts.Symbol | undefined, newName: string): void {
  const program = builder.program;
  const checker = program.getTypeChecker() as ts.TypeChecker & {
    resolveName?(name: string, location: ts.Node, meaning: ts.SymbolFlags, excludeGlobals: boolean): ts.Symbol | undefined;
  };
  const wordPattern = new RegExp(`(?<![\\w$])${newName.replace(/[$]/g, '\\$')}(?![\\w$])`);
  const collision = (symbol: ts.Symbol, why: string): CodeBuddyError => {
    const declaration = symbol.declarations?.[0];
    const where = declaration ? builder.where(declaration.getSourceFile().fileName, declaration.getStart()) : '(a global)';
    return new CodeBuddyError('E_CONFLICT', `${newName} ${why}: ${where}; nothing was changed`, { field: 'new_name', collision: where });
  };
  const isLibrary = (symbol: ts.Symbol) => symbol.declarations?.every((declaration) => declaration.getSourceFile().isDeclarationFile) ?? true;

  // 1. Where each reference stands, the new name must not already mean something else.
  const meaning = ts.SymbolFlags.Value | ts.SymbolFlags.Type | ts.SymbolFlags.Namespace;
  for (const { node, file } of located) {
    if (!node || !ts.isIdentifier(node) || isPropertyName(node) || !checker.resolveName) continue;
    const existing = checker.resolveName(newName, node, meaning, false);
    if (!existing || renamed().has(existing) || renamed().has(resolved(checker, existing)!)) continue;
    // A global nobody in this file uses by that name is shadowed harmlessly.
    if (isLibrary(existing) && !wordPattern.test(file.text)) continue;
    throw collision(existing, 'is already declared where the symbol is used');
  }

  // 2. Members: the class, interface or type must not have a member of that name already.
  for (const declaration of target?.declarations ?? []) {
    const owner = declaration.parent;
    if (!(ts.isClassLike(owner) || ts.isInterfaceDeclaration(owner) || ts.isTypeLiteralNode(owner))) continue;
    const ownerSymbol = ts.isTypeLiteralNode(owner) ? undefined : owner.name && checker.getSymbolAtLocation(owner.name);
    const type = ownerSymbol ? checker.getDeclaredTypeOfSymbol(ownerSymbol) : checker.getTypeAtLocation(owner);
    const existing = type.getProperty(newName);
    if (existing && !renamed().has(existing)) throw collision(existing, 'is already a member there');
  }

  // 3. Within the scope of each declaration, no use of the new name may come to mean the renamed symbol.
  for (const declaration of target?.declarations ?? []) {
    if (ts.isClassElement(declaration) || ts.isTypeElement(declaration)) continue;
    const scope = scopeOf(declaration);
    if (!scope || !wordPattern.test(scope.getText())) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isIdentifier(node) && node.text === newName && !isPropertyName(node)) {
        const symbol = checker.getSymbolAtLocation(node);
        if (!symbol || !renamed().has(symbol)) throw collision(symbol ?? target!, symbol ? 'is already used in that scope, and would be captured' : 'is used unresolved in that scope');
      }
      ts.forEachChild(node, visit);
    };
    visit(scope);
  }
}

/** The node whose extent is the scope of a declaration's name. */
function scopeOf(declaration: ts.Node): ts.Node | undefined {
  let node: ts.Node | undefined = ts.isParameter(declaration) ? declaration.parent : declaration.parent;
  while (node) {
    if (ts.isSourceFile(node) || ts.isBlock(node) || ts.isModuleBlock(node) || ts.isFunctionLike(node) || ts.isCaseBlock(node) || ts.isCatchClause(node) || ts.isForStatement(node) || ts.isForOfStatement(node) || ts.isForInStatement(node)) {
      return node;
    }
    node = node.parent;
  }
  return undefined;
}
