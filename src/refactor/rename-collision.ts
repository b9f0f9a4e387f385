import type { DocumentSymbol, Position, Range, SymbolInformation, TextDocumentEdit, TextEdit, WorkspaceEdit } from 'vscode-languageserver-protocol';

/** A declaration the new name already has, where a rename would put that name. */
export interface Collision {
  uri: string;
  at: Position;
}

const before = (a: Position, b: Position) => a.line < b.line || (a.line === b.line && a.character <= b.character);
const contains = (range: Range, position: Position) => before(range.start, position) && before(position, range.end);

/** Where the rename writes, per document: the start of each text edit. */
function editStarts(edit: WorkspaceEdit): Map<string, Position[]> {
  const starts = new Map<string, Position[]>();
  const add = (uri: string, edits: readonly Pick<TextEdit, 'range'>[]) => starts.set(uri, [...(starts.get(uri) ?? []), ...edits.map((change) => change.range.start)]);
  for (const change of edit.documentChanges ?? []) if (!('kind' in change)) add((change as TextDocumentEdit).textDocument.uri, (change as TextDocumentEdit).edits);
  for (const [uri, edits] of Object.entries(edit.changes ?? {})) add(uri, edits);
  return starts;
}

/**
 * A language server's rename is taken as it computes it, and servers do not check whether
 * the new name is taken (pyright renames `add_item` to `total` beside a method `total`,
 * leaving one silently replacing the other). So before the plan: in each document the edit
 * touches, the server's outline (`textDocument/documentSymbol`) is searched for a symbol
 * already named `newName` whose scope — the symbol containing it (a class, a function), or
 * the whole file at top level — holds one of the edits: there the new name would mean two
 * things. A flat outline (SymbolInformation, no nesting) counts every match as file-wide:
 * stricter than needed, never looser. Names the outline does not list (imports, in most
 * servers; parameters) are not seen: a documented limit.
 */
export async function findCollision(
  edit: WorkspaceEdit,
  newName: string,
  outline: (uri: string) => Promise<(DocumentSymbol | SymbolInformation)[] | undefined>,
): Promise<Collision | undefined> {
  for (const [uri, starts] of editStarts(edit)) {
    const symbols = await outline(uri);
    if (!symbols) continue;
    const found = search(symbols, undefined, newName, starts);
    if (found) return { uri, at: found };
  }
  return undefined;
}

function search(symbols: readonly (DocumentSymbol | SymbolInformation)[], scope: Range | undefined, newName: string, starts: readonly Position[]): Position | undefined {
  for (const symbol of symbols) {
    const hierarchical = 'selectionRange' in symbol;
    if (symbol.name === newName) {
      const inScope = scope === undefined || !hierarchical ? starts.length > 0 : starts.some((start) => contains(scope, start));
      if (inScope) return hierarchical ? symbol.selectionRange.start : symbol.location.range.start;
    }
    if (hierarchical && symbol.children?.length) {
      const inner = search(symbol.children, symbol.range, newName, starts);
      if (inner) return inner;
    }
  }
  return undefined;
}
