import * as Y from 'yjs';
import type { SyncRoom } from './sync-room.js';

export interface Position {
  line: number;
  column: number;
}

export interface Editor {
  /** `tenant/user` of the authenticated connection (never what the client claims). */
  user: string;
  read_only: boolean;
  /** The name the client shows (awareness `user.name`), when it gives one. */
  name?: string;
  /** Where each of its cursors is (1-based), with the other end when text is selected. */
  cursors: Array<{ head: Position; anchor?: Position }>;
}

/** Cursor fields of the common bindings: y-codemirror (`cursor`), y-monaco and y-quill (`selection`). */
const CURSOR_FIELDS = ['cursor', 'selection'] as const;

/**
 * Who is in a room and where their cursors are, from awareness: the states each
 * connection controls, cursors turned from Yjs relative positions into line and column.
 * Anything a client put in its state that is not a well-formed position is left out.
 */
export function editorsOf(room: SyncRoom): Editor[] {
  const states = room.awareness.getStates();
  const editors: Editor[] = [];
  for (const connection of room.connections) {
    const cursors: Editor['cursors'] = [];
    let name: string | undefined;
    for (const id of connection.awarenessIds) {
      const state = states.get(id) as Record<string, unknown> | undefined;
      if (!state) continue;
      const user = state.user as { name?: unknown } | undefined;
      if (typeof user?.name === 'string') name = user.name.slice(0, 100);
      for (const field of CURSOR_FIELDS) {
        const range = state[field] as { anchor?: unknown; head?: unknown } | undefined;
        const head = positionOf(room, range?.head);
        if (!head) continue;
        const anchor = positionOf(room, range?.anchor);
        cursors.push(anchor && (anchor.line !== head.line || anchor.column !== head.column) ? { head, anchor } : { head });
      }
    }
    editors.push({ user: connection.author, read_only: connection.readOnly !== undefined, ...(name === undefined ? {} : { name }), cursors: cursors.slice(0, 20) });
  }
  return editors;
}

function positionOf(room: SyncRoom, json: unknown): Position | undefined {
  if (!json || typeof json !== 'object') return undefined;
  let index: number;
  try {
    const absolute = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(json), room.doc);
    if (!absolute || absolute.type !== room.text) return undefined;
    index = absolute.index;
  } catch {
    return undefined;
  }
  const before = room.content.slice(0, index);
  const line = before.split('\n').length;
  return { line, column: index - before.lastIndexOf('\n') };
}
