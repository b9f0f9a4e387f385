import type { OutlineSymbol } from './syntax-protocol.js';

/** One definition a symbol query found: `@definition.<kind>` with its `@name` (and `@scope`). */
export interface Definition {
  kind: string;
  name: string;
  /** The type a method belongs to when it is defined outside it (Go receivers, C++ `Cart::add`). */
  scope?: string;
  patternIndex: number;
  startIndex: number;
  endIndex: number;
  start: { row: number; column: number };
  end: { row: number; column: number };
}

/**
 * The nested outline of a file from its definitions: a symbol's parent is the nearest
 * definition whose range contains it, so nesting follows the code whatever the language.
 * The same node found by two patterns under the same name counts once, for the earlier
 * pattern (queries list the specific pattern, a method, before the general one, a function).
 */
export function buildOutline(definitions: readonly Definition[]): OutlineSymbol[] {
  const unique = new Map<string, Definition>();
  for (const definition of definitions) {
    const key = `${definition.startIndex}:${definition.endIndex}:${definition.name}`;
    const seen = unique.get(key);
    if (seen === undefined || definition.patternIndex < seen.patternIndex) unique.set(key, definition);
  }
  // Outer before inner: by start, then the longer first.
  const ordered = [...unique.values()].sort((a, b) => a.startIndex - b.startIndex || b.endIndex - a.endIndex || a.patternIndex - b.patternIndex);
  const open: { startIndex: number; endIndex: number; path: string }[] = [];
  const encloses = (outer: { startIndex: number; endIndex: number }, inner: Definition) =>
    outer.endIndex >= inner.endIndex && !(outer.startIndex === inner.startIndex && outer.endIndex === inner.endIndex); // one node, two names (`int a, b;`): siblings
  return ordered.map((definition) => {
    while (open.length > 0 && !encloses(open[open.length - 1]!, definition)) open.pop();
    const parent = open[open.length - 1];
    const own = definition.scope ? `${definition.scope}.${definition.name}` : definition.name;
    const path = parent ? `${parent.path}.${own}` : own;
    const symbol: OutlineSymbol = {
      kind: definition.kind,
      name: definition.name,
      name_path: path,
      depth: open.length,
      start_line: definition.start.row + 1,
      start_column: definition.start.column + 1,
      end_line: definition.end.row + 1,
      end_column: definition.end.column + 1,
    };
    open.push({ startIndex: definition.startIndex, endIndex: definition.endIndex, path });
    return symbol;
  });
}
