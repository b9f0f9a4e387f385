import { CodeBuddyError } from '../core/errors.js';

/** Linux's PATH_MAX: a host path this long cannot be named, so neither can a workspace path that makes one. */
const PATH_MAX = 4096;

export function outside(path: string, why: string): CodeBuddyError {
  return new CodeBuddyError('E_PATH_OUTSIDE_WORKSPACE', `path ${JSON.stringify(path.slice(0, 200))} ${why}; use a path relative to the workspace root`, { field: 'path' });
}

/**
 * The lexical half of confinement: refuse what no workspace-relative path looks like.
 * Backslashes count as separators, so Windows-style `..\\` escapes are caught too.
 */
export function normalizeRelative(path: string): string {
  if (path.includes('\0')) throw outside(path, 'contains a NUL byte');
  const slashed = path.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[A-Za-z]:/.test(slashed)) throw outside(path, 'is absolute');
  const segments: string[] = [];
  for (const segment of slashed.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') throw outside(path, 'contains ..');
    segments.push(segment);
  }
  return segments.join('/');
}

/**
 * Refuses a path whose host spelling would exceed PATH_MAX. The handle walk opens one
 * component at a time, so the kernel would never say so itself; a path no other tool
 * could open is refused alike, whatever its components.
 */
export function assertNameable(root: string, components: readonly string[]): void {
  let bytes = Buffer.byteLength(root);
  for (const component of components) bytes += 1 + Buffer.byteLength(component);
  if (bytes >= PATH_MAX) throw new CodeBuddyError('E_INVALID_ARGUMENT', 'path is too long', { field: 'path' });
}
