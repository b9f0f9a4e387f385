import type { DocumentSymbol, Range, SymbolInformation, WorkspaceSymbol } from 'vscode-languageserver-protocol';

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

/** Kinds whose members belong in an outline (module, namespace, package, class, enum, interface, object, struct); a function's locals do not. */
const CONTAINERS = new Set([2, 3, 4, 5, 10, 11, 19, 23]);

/**
 * A document outline, hierarchical (DocumentSymbol) or flat (SymbolInformation with container
 * names), in source order: declarations and the members of classes, interfaces, modules and
 * the like, not the locals of functions (servers differ on whether they list those).
 */
export function flattenOutline(symbols: readonly (DocumentSymbol | SymbolInformation)[]): OutlineEntry[] {
  const out: OutlineEntry[] = [];
  const visit = (symbol: DocumentSymbol, parent: string, depth: number) => {
    const name = bareName(symbol.name);
    const namePath = parent ? `${parent}.${name}` : name;
    out.push({ namePath, name, kind: symbol.kind, depth, range: symbol.range, selection: symbol.selectionRange });
    if (CONTAINERS.has(symbol.kind)) for (const child of symbol.children ?? []) visit(child, namePath, depth + 1);
  };
  for (const symbol of symbols) {
    if ('location' in symbol) {
      const name = bareName(symbol.name);
      const container = symbol.containerName ? bareName(symbol.containerName) : '';
      out.push({ namePath: container ? `${container}.${name}` : name, name, kind: symbol.kind, depth: container ? 1 : 0, range: symbol.location.range, selection: symbol.location.range });
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

/** Workspace symbols that may be the name path: the last segment by name, the rest by container. */
export function matchWorkspaceSymbols<T extends SymbolInformation | WorkspaceSymbol>(symbols: readonly T[], namePath: string): T[] {
  const segments = namePath.split('.');
  const name = segments.at(-1)!;
  const container = segments.slice(0, -1).join('.');
  return symbols.filter((symbol) => {
    if (bareName(symbol.name) !== name) return false;
    if (!container) return true;
    const theirs = symbol.containerName ? bareName(symbol.containerName) : '';
    return theirs === container || theirs.endsWith(`.${container}`);
  });
}
