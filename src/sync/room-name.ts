/** What a room name asks for: `<workspace>/file/<path>`, `<workspace>/note/<id>` or `<workspace>/state`. */
export type RoomName = { workspace: string; kind: 'file'; path: string } | { workspace: string; kind: 'note'; noteId: string } | { workspace: string; kind: 'state' };

/**
 * Parses a room name; undefined when it is none. Only the shape is checked here: the
 * workspace is resolved within the caller's tenant and the path walked by handles later,
 * and every refusal on the way reads the same as a missing room.
 */
export function parseRoomName(name: string): RoomName | undefined {
  if (name.length === 0 || name.length > 4400) return undefined;
  const slash = name.indexOf('/');
  if (slash <= 0) return undefined;
  const workspace = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  if (rest === 'state') return { workspace, kind: 'state' };
  if (rest.startsWith('file/') && rest.length > 5) return { workspace, kind: 'file', path: rest.slice(5) };
  if (rest.startsWith('note/') && /^[\w.:-]{1,200}$/.test(rest.slice(5))) return { workspace, kind: 'note', noteId: rest.slice(5) };
  return undefined;
}
