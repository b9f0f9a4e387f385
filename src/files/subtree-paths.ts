import { closeSync, openSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { at, DIRECTORY, locateInWorkspace } from './workspace-handle.js';

/** Entries listed at most: a policy check must answer in bounded time, whatever the tree. */
export const SUBTREE_LIMIT = 10_000;

/**
 * Every path below the directory `relative` names in a workspace, for a policy to judge what
 * deleting or moving the directory would touch: a rule denying `.env` must hold for
 * `file_delete` of the directory that contains it. Unlike the search walk, nothing is
 * skipped (.gitignore'd files and `.git` are files all the same). It walks by handles
 * (workspace-handle.ts): symlinks are listed, never followed, and a path that is a link
 * (deleting it removes the link) has nothing below it. The walk stops at `limit` entries
 * with `complete: false`.
 */
export async function subtreePaths(root: string, relative: string, limit = SUBTREE_LIMIT): Promise<{ paths: string[]; complete: boolean }> {
  let start: number;
  try {
    start = relative === '' ? openSync(root, DIRECTORY) : openEntryDirectory(root, relative);
  } catch {
    return { paths: [], complete: false }; // changed under us: what it holds is unknown
  }
  if (start < 0) return { paths: [], complete: true };
  const paths: string[] = [];
  // Depth first, one handle per level: a wide directory never holds more than its own open.
  const list = async (fd: number, directory: string): Promise<boolean> => {
    try {
      // A directory that vanished or cannot be read was not listed: the list is incomplete.
      const entries = await readdir(at(fd), { withFileTypes: true }).catch(() => undefined);
      if (!entries) return false;
      for (const entry of entries) {
        if (paths.length >= limit) return false;
        const path = directory === '' ? entry.name : `${directory}/${entry.name}`;
        paths.push(path);
        if (!entry.isDirectory()) continue;
        let child: number;
        try {
          child = openSync(at(fd, entry.name), DIRECTORY);
        } catch {
          return false;
        }
        if (!(await list(child, path))) return false;
      }
      return true;
    } finally {
      closeSync(fd);
    }
  };
  return { paths, complete: await list(start, relative) };
}

/** The directory a path names as an entry (not through a link as its last part), opened; -1 when it is not a directory. */
function openEntryDirectory(root: string, relative: string): number {
  const located = locateInWorkspace(root, relative, { last: 'entry' });
  try {
    return located.info?.isDirectory() ? openSync(at(located.dir, located.name), DIRECTORY) : -1;
  } finally {
    closeSync(located.dir);
  }
}
