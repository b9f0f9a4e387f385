import { closeSync, openSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { readdir, rmdir, unlink } from 'node:fs/promises';
import { CodeBuddyError } from '../core/errors.js';
import { fsError } from './fs-errors.js';
import { at, DIRECTORY } from './workspace-handle.js';

const codeOf = (error: unknown) => (error as NodeJS.ErrnoException).code;

/** How often an entry that keeps changing between a directory and something else is looked at again. */
const ATTEMPTS = 100;

/**
 * `rm -rf` of `name` in the open directory `dir`, by handles: each directory is opened from
 * its parent's handle without following a symlink, emptied through its own handle, then
 * removed from its parent's. A directory swapped for a symlink mid-way is unlinked as a
 * link; nothing behind a link is ever touched, however the tree changes meanwhile. An entry
 * swapped back and forth is looked at again until it is gone.
 */
export async function removeTree(dir: number, name: string, relative: string): Promise<void> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    let fd: number;
    try {
      fd = openSync(at(dir, name), DIRECTORY);
    } catch (error) {
      const code = codeOf(error);
      if (code === 'ENOENT') return;
      if (code !== 'ENOTDIR') throw fsError(error, relative);
      // Not a directory: a file or a link, removed as an entry (unless it became a directory again).
      const removed = await unlink(at(dir, name)).then(
        () => true,
        (unlinkError: unknown) => {
          const unlinkCode = codeOf(unlinkError);
          if (unlinkCode === 'ENOENT') return true;
          if (unlinkCode === 'EISDIR' || unlinkCode === 'EPERM') return false;
          throw fsError(unlinkError, relative);
        },
      );
      if (removed) return;
      continue;
    }
    try {
      for (const entry of await readdir(at(fd), { withFileTypes: true })) {
        const child = `${relative}/${entry.name}`;
        if (entry.isDirectory()) await removeTree(fd, entry.name, child);
        else {
          await unlink(at(fd, entry.name)).catch(async (error: unknown) => {
            const code = codeOf(error);
            if (code === 'ENOENT') return;
            // Became a directory since the listing: remove it as one.
            if (code === 'EISDIR' || code === 'EPERM') return removeTree(fd, entry.name, child);
            throw fsError(error, child);
          });
        }
      }
    } finally {
      closeSync(fd);
    }
    const removed = await rmdir(at(dir, name)).then(
      () => true,
      (error: unknown) => {
        const code = codeOf(error);
        if (code === 'ENOENT') return true;
        // Swapped meanwhile (a link, or another directory with entries under this name): look again.
        if (code === 'ENOTDIR' || code === 'ENOTEMPTY' || code === 'EEXIST') return false;
        throw fsError(error, relative);
      },
    );
    if (removed) return;
  }
  throw new CodeBuddyError('E_CONFLICT', `${relative} kept changing while it was being deleted; try again`, { field: 'path' });
}

/**
 * `rm -rf` of a whole workspace directory (an absolute path whose parents are the server's
 * own): by handles from its parent, so a command still running in it cannot swap a
 * directory for a link and lead the server's deletion outside.
 */
export async function removeDirectoryTree(path: string): Promise<void> {
  let parent: number;
  try {
    parent = openSync(dirname(path), DIRECTORY);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return;
    throw error;
  }
  try {
    await removeTree(parent, basename(path), basename(path));
  } finally {
    closeSync(parent);
  }
}
