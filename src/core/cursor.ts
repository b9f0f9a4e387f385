import { CodeBuddyError } from './errors.js';

/**
 * Opaque paging cursors: base64url JSON tagged with the operation that issued them,
 * so a cursor from one tool cannot be replayed into another.
 */
export function encodeCursor(kind: string, state: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify({ k: kind, ...state })).toString('base64url');
}

export function decodeCursor<T extends Record<string, unknown>>(kind: string, cursor: string): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!parsed || typeof parsed !== 'object' || (parsed as { k?: unknown }).k !== kind) {
    throw new CodeBuddyError('E_INVALID_CURSOR', `cursor is not a ${kind} cursor; pass next_cursor from the previous ${kind} answer unchanged.`);
  }
  return parsed as T;
}
