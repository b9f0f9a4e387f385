import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Entries listed at most: a policy check must answer in bounded time, whatever the tree. */
export const SUBTREE_LIMIT = 10_000;

/**
 * Every path below a directory (workspace-relative), for a policy to judge what deleting
 * or moving the directory would touch: a rule denying `.env` must hold for `file_delete`
 * of the directory that contains it. Unlike the search walk, nothing is skipped
 * (.gitignore'd files and `.git` are files all the same), symlinks are listed and never
 * followed, and the walk stops at `limit` entries with `complete: false`.
 */
export async function subtreePaths(absolute: string, relative: string, limit = SUBTREE_LIMIT): Promise<{ paths: string[]; complete: boolean }> {
  const info = await lstat(absolute).catch(() => undefined);
  if (!info?.isDirectory()) return { paths: [], complete: true };
  const paths: string[] = [];
  const pending: { absolute: string; relative: string }[] = [{ absolute, relative }];
  while (pending.length > 0) {
    const directory = pending.pop()!;
    // A directory that vanished or cannot be read was not listed: the list is incomplete.
    const entries = await readdir(directory.absolute, { withFileTypes: true }).catch(() => undefined);
    if (!entries) return { paths, complete: false };
    for (const entry of entries) {
      if (paths.length >= limit) return { paths, complete: false };
      const path = directory.relative === '' ? entry.name : `${directory.relative}/${entry.name}`;
      paths.push(path);
      if (entry.isDirectory()) pending.push({ absolute: join(directory.absolute, entry.name), relative: path });
    }
  }
  return { paths, complete: true };
}
