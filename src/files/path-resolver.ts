import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { CodeBuddyError } from '../core/errors.js';

export interface ResolvedPath {
  /** Absolute host path inside the workspace root (symlinks in existing parents resolved). */
  absolute: string;
  /** Workspace-relative, `/`-separated, no `.` or `..`; '' for the root. */
  relative: string;
}

function outside(path: string, why: string): CodeBuddyError {
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

function isWithin(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root + sep);
}

/**
 * Resolves a workspace-relative path to a host path that is certainly inside the
 * workspace: the realpath of the target, or for a path that does not exist yet, the
 * realpath of its nearest existing parent, must lie under the workspace root's realpath.
 * A symlink inside the workspace that leads outside it is refused.
 *
 * realpath here is the synchronous libc call: a few microseconds on a local disk, where
 * the promise version costs a thread-pool round trip per call on the hottest path we have.
 */
export async function resolveInWorkspace(root: string, path: string): Promise<ResolvedPath> {
  const relative = normalizeRelative(path);
  const realRoot = realpathSync.native(root);
  const lexical = relative === '' ? realRoot : join(realRoot, relative);

  let probe = lexical;
  let missingTail = '';
  for (;;) {
    try {
      const real = realpathSync.native(probe);
      if (!isWithin(realRoot, real)) throw outside(path, 'leads outside the workspace');
      const absolute = missingTail === '' ? real : join(real, missingTail);
      return { absolute, relative: absolute === realRoot ? '' : absolute.slice(realRoot.length + 1).split(sep).join('/') };
    } catch (error) {
      if (error instanceof CodeBuddyError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENAMETOOLONG') throw new CodeBuddyError('E_INVALID_ARGUMENT', 'path is too long', { field: 'path' });
      if (code === 'EACCES' || code === 'EPERM') throw new CodeBuddyError('E_FORBIDDEN', `permission denied on ${JSON.stringify(path.slice(0, 200))}`, { field: 'path' });
      // ENOENT: not there yet; ENOTDIR: a parent is a file. Either way, climb to the parent.
      if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'ELOOP') throw error;
      if (code === 'ELOOP') throw outside(path, 'goes through a symlink loop');
      const parent = dirname(probe);
      if (parent === probe || !isWithin(realRoot, parent)) throw outside(path, 'cannot be resolved inside the workspace');
      missingTail = missingTail === '' ? probe.slice(parent.length + 1) : join(probe.slice(parent.length + 1), missingTail);
      probe = parent;
    }
  }
}

/**
 * The directory entry a path names, for operations on the entry itself (delete, move,
 * stat): parents resolved, the last component not followed, so deleting a symlink removes
 * the link, not what it points to. The full resolution runs first, so a link that leads
 * outside the workspace is refused here too.
 */
export async function resolveEntryInWorkspace(root: string, path: string): Promise<ResolvedPath> {
  const target = await resolveInWorkspace(root, path);
  const relative = normalizeRelative(path);
  if (relative === '' || !relative.includes('/')) {
    if (relative === '') return target;
    const realRoot = realpathSync.native(root);
    return { absolute: join(realRoot, relative), relative };
  }
  const parent = await resolveInWorkspace(root, dirname(relative));
  const name = basename(relative);
  return { absolute: join(parent.absolute, name), relative: parent.relative === '' ? name : `${parent.relative}/${name}` };
}

/** What a path names, checked to exist: a search or walk below a missing path is a mistake worth saying. */
export async function resolveExisting(root: string, path: string, expect: 'directory' | 'any'): Promise<ResolvedPath & { isDirectory: boolean }> {
  const resolved = await resolveInWorkspace(root, path);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(resolved.absolute).isDirectory();
  } catch {
    throw new CodeBuddyError('E_NOT_FOUND', `${resolved.relative || '(workspace root)'} not found`, { field: 'path' });
  }
  if (expect === 'directory' && !isDirectory) throw new CodeBuddyError('E_NOT_A_DIRECTORY', `${resolved.relative} is not a directory`, { field: 'path' });
  return { ...resolved, isDirectory };
}
