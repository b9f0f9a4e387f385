import type { DocumentSymbol, Range, SymbolInformation, WorkspaceSymbol } from 'vscode-languageserver-protocol';
import { LineIndex } from './document-offsets.js';

/** A symbol flattened out of a document outline: its dotted name path, kind and ranges. */
export interface OutlineEntry {
  namePath: string;
  name: string;
  kind: number;
  depth: number;
  range: Range;
  /** Where the name itself is: the position requests about the symbol are made at. */
  selection: Range;
}

/** Servers decorate names (`addItem(product, quantity)`, `"key"`): the bare identifier is what agents write. */
export function bareName(name: string): string {
  return name.replace(/\(.*$/s, '').replace(/^["']|["']$/g, '').trim();
}

/** A Go method as gopls names it in an outline, `(*Cart).AddItem` or `(List[T]).Len`: its receiver type and its name. */
const GO_METHOD = /^\(\*?([\p{L}\p{N}_]+)(?:\[[^\]]*\])?\)\.([\p{L}\p{N}_]+)$/u;

/** How far into a flat symbol's range its name is looked for: it is declared at the start. */
const NAME_SEARCH_CHARS = 1_000;

/**
 * Where a flat symbol's name is. SymbolInformation has one range, the whole declaration for
 * some servers (pylsp: from `def`); a request made there would be about the keyword. The
 * name's first whole-word occurrence in it is the name; without the text, the range's start.
 */
function nameRange(index: LineIndex | undefined, range: Range, name: string): Range {
  const start = index?.offsetAt(range.start);
  const end = index?.offsetAt(range.end);
  if (!index || start === undefined || end === undefined || !name) return range;
  const declaration = index.text.slice(start, Math.min(end, start + NAME_SEARCH_CHARS));
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const found = new RegExp(`(?<![\\p{L}\\p{N}_$])${escaped}(?![\\p{L}\\p{N}_$])`, 'u').exec(declaration);
  if (!found) return range;
  return { start: index.positionAt(start + found.index), end: index.positionAt(start + found.index + name.length) };
}

/** Kinds whose members belong in an outline (module, namespace, package, class, enum, interface, object, struct); a function's locals do not. */
const CONTAINERS = new Set([2, 3, 4, 5, 10, 11, 19, 23]);

/**
 * A document outline, hierarchical (DocumentSymbol) or flat (SymbolInformation with container
 * names), in source order: declarations and the members of classes, interfaces, modules and
 * the like, not the locals of functions (servers differ on whether they list those).
 */
export function flattenOutline(symbols: readonly (DocumentSymbol | SymbolInformation)[], text?: string): OutlineEntry[] {
  const out: OutlineEntry[] = [];
  const index = text === undefined ? undefined : new LineIndex(text);
  const visit = (symbol: DocumentSymbol, parent: string, depth: number) => {
    const method = GO_METHOD.exec(symbol.name);
    const name = method ? method[2]! : bareName(symbol.name);
    const owner = method ? (parent ? `${parent}.${method[1]}` : method[1]!) : parent;
    const namePath = owner ? `${owner}.${name}` : name;
    out.push({ namePath, name, kind: symbol.kind, depth, range: symbol.range, selection: symbol.selectionRange });
    if (CONTAINERS.has(symbol.kind)) for (const child of symbol.children ?? []) visit(child, namePath, depth + 1);
  };
  // A flat outline names a symbol's container, not its kind: one held by a function or a method (pylsp lists locals) is a local.
  const flat = symbols.filter((symbol): symbol is SymbolInformation => 'location' in symbol);
  const functions = new Set(flat.filter((symbol) => !CONTAINERS.has(symbol.kind)).map((symbol) => bareName(symbol.name)));
  const containers = new Set(flat.filter((symbol) => CONTAINERS.has(symbol.kind)).map((symbol) => bareName(symbol.name)));
  for (const symbol of symbols) {
    if ('location' in symbol) {
      if (symbol.containerName && functions.has(bareName(symbol.containerName)) && !containers.has(bareName(symbol.containerName))) continue;
      const name = bareName(symbol.name);
      const container = symbol.containerName ? bareName(symbol.containerName) : '';
      const { range } = symbol.location;
      out.push({ namePath: container ? `${container}.${name}` : name, name, kind: symbol.kind, depth: container ? 1 : 0, range, selection: nameRange(index, range, name) });
    } else visit(symbol, '', 0);
  }
  const start = (entry: OutlineEntry) => entry.range.start;
  return out.sort((a, b) => start(a).line - start(b).line || start(a).character - start(b).character || a.depth - b.depth);
}

/** Outline entries a name path designates: the whole path, or its tail (`addItem` finds `Cart.addItem`). */
export function matchNamePath(entries: readonly OutlineEntry[], namePath: string): OutlineEntry[] {
  const exact = entries.filter((entry) => entry.namePath === namePath);
  if (exact.length > 0) return exact;
  return entries.filter((entry) => entry.namePath.endsWith(`.${namePath}`));
}

/**
 * Workspace symbols that may be the name path: the last segment by name, the rest by
 * container. A name the server qualified itself (gopls: `Cart.AddItem` in the container
 * `example.com/shop/cart`) counts its qualifiers as containers.
 */
export function matchWorkspaceSymbols<T extends SymbolInformation | WorkspaceSymbol>(symbols: readonly T[], namePath: string): T[] {
  const segments = namePath.split('.');
  const name = segments.at(-1)!;
  const container = segments.slice(0, -1).join('.');
  return symbols.filter((symbol) => {
    const parts = bareName(symbol.name).split('.');
    if (parts.at(-1) !== name) return false;
    if (!container) return true;
    const theirs = [symbol.containerName ? bareName(symbol.containerName) : '', ...parts.slice(0, -1)].filter(Boolean).join('.');
    // A Go package path ends at a `/`: `cart.Cart` is in `example.com/shop/cart`.
    return theirs === container || theirs.endsWith(`.${container}`) || theirs.endsWith(`/${container}`);
  });
}
