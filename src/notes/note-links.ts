import type { NoteLinkRow } from '../store/note-link-repository.js';

/**
 * The link model: typed edges from a note to a note, a file, or a symbol in a file. The
 * standard types name the usual relations; any other lower-case word is a custom type.
 */
export const standardLinkTypes = ['relates', 'depends_on', 'supersedes', 'documents'] as const;
export const linkTypePattern = /^[a-z][a-z0-9_]{0,39}$/;
/** A symbol's name path as language tools spell it: `Class.method`, `module::fn`, `outer/inner`. */
export const symbolPattern = /^[^\s\u0000-\u001f]{1,300}$/;

export interface LinkView {
  id: string;
  type: string;
  from: string;
  to: { kind: 'note' | 'file' | 'symbol'; note?: string; path?: string; symbol?: string };
}

export function linkView(row: NoteLinkRow): LinkView {
  const to: LinkView['to'] =
    row.target_kind === 'note'
      ? { kind: 'note', note: row.target_ref }
      : row.target_kind === 'file'
        ? { kind: 'file', path: row.target_ref }
        : { kind: 'symbol', path: row.target_ref, symbol: row.target_symbol };
  return { id: row.id, type: row.type, from: row.from_note, to };
}

/** `note note_…`, `file src/a.ts`, `symbol src/a.ts#Parser.parse`. */
export function describeTarget(to: LinkView['to']): string {
  if (to.kind === 'note') return `note ${to.note}`;
  return to.kind === 'file' ? `file ${to.path}` : `symbol ${to.path}#${to.symbol}`;
}
