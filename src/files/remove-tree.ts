import { closeSync, openSync } from 'node:fs';
import { readdir, rmdir, unlink } from 'node:fs/promises';
import { fsError } from './fs-errors.js';
import { at, DIRECTORY } from './workspace-handle.js';

const codeOf = (error: unknown) => (error as NodeJS.ErrnoException).code;

/**
 * `rm -rf` of `name` in the open directory `dir`, by handles: each directory is opened from
 * its parent's handle without following a symlink, emptied through its own handle, then
 * removed from its parent's. A directory swapped for a symlink mid-way is unlinked as a
 * link; nothing behind a link is ever touched, however the tree changes meanwhile.
 */
export async function removeTree(dir: number, name: string, relative: string): Promise<void> {
  let fd: number;
  try {
    fd = openSync(at(dir, name), DIRECTORY);
  } catch (error) {
    const code = codeOf(error);
    if (code === 'ENOENT') return;
    if (code !== 'ENOTDIR') throw fsError(error, relative);
    // Not a directory (any more): a file or a link, removed as an entry.
    await unlink(at(dir, name)).catch((unlinkError: unknown) => {
      if (codeOf(unlinkError) !== 'ENOENT') throw fsError(unlinkError, relative);
    });
    return;
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
  await rmdir(at(dir, name)).catch((error: unknown) => {
    if (codeOf(error) !== 'ENOENT') throw fsError(error, relative);
  });
}
