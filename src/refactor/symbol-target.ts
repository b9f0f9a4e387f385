import { ts } from 'ts-morph';
import { CodeBuddyError } from '../core/errors.js';
import type { PlanBuilder } from './plan-builder.js';

/** Where a refactor starts: a symbol by name (`formatCents`, `Cart.total`), or a position. */
export interface SymbolTarget {
  symbol?: string | undefined;
  path?: string | undefined;
  line?: number | undefined;
  column?: number | undefined;
}

const MAX_CANDIDATES = 20;

/**
 * The file and offset of the identifier a target names. A name is looked up in the
 * project's navigation index (declarations at module level and class or interface
 * members, not locals); `Container.member` narrows to members of that container. A name
 * with several declarations is refused, listing them, so the agent can pass a position.
 */
export function locateTarget(builder: PlanBuilder, target: SymbolTarget): { fileName: string; position: number } {
  if (target.path !== undefined || target.line !== undefined || target.column !== undefined) {
    if (target.path === undefined || target.line === undefined || target.column === undefined) {
      throw new CodeBuddyError('E_INVALID_ARGUMENT', 'a position needs path, line and column together', { field: target.path === undefined ? 'path' : target.line === undefined ? 'line' : 'column' });
    }
    const file = builder.sourceFile(target.path);
    return { fileName: file.getFilePath(), position: builder.offsetOf(file, target.line, target.column) };
  }
  if (target.symbol === undefined) throw new CodeBuddyError('E_INVALID_ARGUMENT', 'give symbol, or path, line and column', { field: 'symbol' });
  const dot = target.symbol.lastIndexOf('.');
  const name = dot < 0 ? target.symbol : target.symbol.slice(dot + 1);
  const container = dot < 0 ? undefined : target.symbol.slice(0, dot);
  const items = builder.languageService
    .getNavigateToItems(name, 500, undefined, true)
    .filter((item) => item.name === name && item.matchKind === 'exact' && (container === undefined || item.containerName === container) && !builder.relative(item.fileName).split('/').includes('node_modules'));
  // An import or re-export (an alias) is never the declaration, when there is one; one
  // declaration per place, and overloads and merged declarations of one symbol count once.
  const declared = items.some((item) => item.kind !== 'alias') ? items.filter((item) => item.kind !== 'alias') : items;
  const places = [...new Map(declared.map((item) => [`${item.fileName}:${item.textSpan.start}`, item])).values()];
  if (places.length === 0) throw new CodeBuddyError('E_NOT_FOUND', `no declaration named ${target.symbol} in the workspace's TypeScript project`, { field: 'symbol' });
  const symbols = new Set(places.map((item) => symbolAt(builder, item.fileName, nameStart(builder, item))));
  if (symbols.size > 1) {
    const candidates = places.slice(0, MAX_CANDIDATES).map((item) => `${builder.where(item.fileName, nameStart(builder, item))} ${item.kind}${item.containerName ? ` in ${item.containerName}` : ''}`);
    throw new CodeBuddyError('E_INVALID_ARGUMENT', `${target.symbol} names ${places.length} declarations; pass path, line and column of the one you mean:\n${candidates.join('\n')}`, { field: 'symbol', candidates });
  }
  const first = places[0]!;
  return { fileName: first.fileName, position: nameStart(builder, first) };
}

/** The navigation index spans whole declarations; the identifier is what a rename starts from. */
function nameStart(builder: PlanBuilder, item: ts.NavigateToItem): number {
  const file = builder.program.getSourceFile(item.fileName);
  if (!file) return item.textSpan.start;
  const text = file.text.slice(item.textSpan.start, item.textSpan.start + item.textSpan.length);
  const match = new RegExp(`(?<![\\w$])${item.name.replace(/[$]/g, '\\$')}(?![\\w$])`).exec(text);
  return item.textSpan.start + (match?.index ?? 0);
}

function symbolAt(builder: PlanBuilder, fileName: string, position: number): ts.Symbol | string {
  const file = builder.program.getSourceFile(fileName);
  const node = file && nodeAt(file, position);
  const checker = builder.program.getTypeChecker();
  const symbol = node && checker.getSymbolAtLocation(node);
  if (!symbol) return `${fileName}:${position}`;
  // A re-export is the same symbol under the same name, not a second declaration.
  return symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
}

/** The innermost node starting at or spanning `position` that is a token (an identifier, a literal). */
export function nodeAt(file: ts.SourceFile, position: number): ts.Node | undefined {
  let found: ts.Node | undefined;
  const visit = (node: ts.Node): void => {
    // `pos` (leading trivia included) is free to read; the start past the trivia is scanned, so only for nodes that may hold the position.
    if (position < node.pos || position >= node.end || position < node.getStart(file)) return;
    found = node;
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(file, visit);
  return found;
}
