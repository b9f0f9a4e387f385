import { closeSync, constants, fchownSync, fstatSync, linkSync, openSync, renameSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { CodeBuddyError } from '../core/errors.js';
import { fsError } from './fs-errors.js';
import { readOpenFileSync } from './regular-file.js';
import { scratchName } from './scratch-name.js';
import { sha256 } from './text-content.js';
import { at, locateInWorkspace, READ_FILE, type Located, type Owner } from './workspace-handle.js';

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_WRONLY } = constants;

/** One file of a change set: what it must be now (`base`) and what it becomes (`content`). */
export interface ChangeSetEntry {
  /** Canonical workspace-relative path. */
  path: string;
  /** sha256 the file must have now; null: there must be no file. */
  base: string | null;
  /** The new content; null: the file is deleted. */
  content: Buffer | null;
}

export interface ChangeSetOptions {
  owner?: Owner;
  maxFileBytes: number;
  /** Directories to remove once the set is applied, if they are empty then (a moved directory's old place). */
  emptiedDirectories?: readonly string[];
}

/** What the commit did to one entry, so it can be undone; `backup` names the original's inode under its backup name. */
interface Undo {
  run(): void;
  backup?: Backup;
}

interface Backup {
  dir: number;
  name: string;
  /** An undo that failed leaves the backup as the only copy of the original: it is kept for a human. */
  keep?: boolean;
  /** A second link to a file replaced by its new content (not a deleted file's only link). */
  replaced?: boolean;
}

/** An entry made ready: its directory open, its new content written beside it under a temporary name. */
interface Prepared {
  entry: ChangeSetEntry;
  target: Located;
  temporary?: string;
}

const stale = (path: string, why: string) => new CodeBuddyError('E_STALE_PROPOSAL', `${path} ${why} since the plan was made; nothing was changed`, { path });

/**
 * Applies several file changes as one: every file ends up as planned, or every file is as
 * it was. The caller holds the path locks of every entry.
 *
 * 1. Check: each path, walked by handles, must still be where the plan saw it and have the
 *    sha256 the plan read (else E_STALE_PROPOSAL, nothing touched).
 * 2. Prepare: new contents go to temporary files beside their targets (O_EXCL, O_NOFOLLOW,
 *    in the target's directory handle). Nothing visible has changed yet.
 * 3. Commit, entry by entry, each step undoable: a replaced file is first hard-linked to a
 *    backup name, then the temporary renamed over it (readers never see a missing file); a
 *    created one is linked into place (never over a file that appeared meanwhile); a deleted
 *    one is renamed to its backup name. A failing step undoes the ones before it in reverse:
 *    the backups, the very inodes the files had, go back under their names.
 * 4. Only then are the backups unlinked.
 */
// Synchronous from check to cleanup: no other callback (a watcher's burst, another call) runs
// between the steps, and the set's files are in memory and bounded (maxFileBytes each) already.
export function commitChangeSet(root: string, entries: readonly ChangeSetEntry[], options: ChangeSetOptions): void {
  const prepared: Prepared[] = [];
  const madeDirectories: string[] = [];
  const undo: Undo[] = [];
  const backups: Backup[] = [];
  let committed = false;
  try {
    for (const entry of entries) prepared.push(prepare(root, entry, options, madeDirectories));
    for (const item of prepared) commitOne(item, undo, backups);
    committed = true;
  } catch (error) {
    // Undo what was committed, newest first; an undo that fails leaves its backup in place for a human.
    for (const step of undo.reverse()) {
      try {
        step.run();
      } catch {
        if (step.backup) step.backup.keep = true;
      }
    }
    throw error instanceof CodeBuddyError ? error : fsError(error, '');
  } finally {
    for (const item of prepared) {
      if (item.temporary !== undefined) unlinkQuietly(item.target.dir, item.temporary);
    }
    // Backups go: after a failure they are spare links to files back in place, after a commit
    // the old contents. Freeing a replaced file's old inode is the slowest step of all and
    // nothing waits for it, so after a commit those unlinks run on the thread pool, each
    // directory handle held until its backups are gone. A failed set's, and a deleted file's
    // (a moved directory's old place must be empty when this returns), go before returning.
    const pending = new Set(committed ? backups.filter((backup) => backup.replaced) : []);
    for (const backup of backups) if (!backup.keep && !pending.has(backup)) unlinkQuietly(backup.dir, backup.name);
    const waiting = new Set([...pending].map((backup) => backup.dir));
    for (const item of prepared) if (!waiting.has(item.target.dir)) closeSync(item.target.dir);
    void removeBackups([...pending]);
    if (!committed) for (const directory of madeDirectories.reverse()) removeEmptyDirectory(root, directory);
  }
  if (committed) for (const directory of options.emptiedDirectories ?? []) removeEmptyDirectory(root, directory);
}

async function removeBackups(backups: readonly Backup[]): Promise<void> {
  await Promise.all(backups.map((backup) => unlink(at(backup.dir, backup.name)).catch(() => undefined)));
  for (const dir of new Set(backups.map((backup) => backup.dir))) closeSync(dir);
}

function prepare(root: string, entry: ChangeSetEntry, options: ChangeSetOptions, madeDirectories: string[]): Prepared {
  if (entry.content !== null && entry.content.length > options.maxFileBytes) {
    throw new CodeBuddyError('E_TOO_LARGE', `${entry.path} would be ${entry.content.length} bytes; the limit is ${options.maxFileBytes}`, { path: entry.path });
  }
  const creating = entry.base === null;
  if (creating) noteMissingDirectories(root, entry.path, madeDirectories);
  const target = locateInWorkspace(root, entry.path, { last: creating ? 'entry' : 'follow', ...(creating ? { createParents: options.owner ? { owner: options.owner } : {} } : {}) });
  const item: Prepared = { entry, target };
  try {
    if (target.relative !== entry.path) throw stale(entry.path, `now leads to ${target.relative}`);
    let mode = 0o644;
    if (creating) {
      if (target.info) throw stale(entry.path, 'was created');
    } else {
      if (!target.info) throw stale(entry.path, 'was deleted');
      const current = readCurrent(target, options.maxFileBytes);
      if (current.sha256 !== entry.base) throw stale(entry.path, 'changed');
      mode = current.mode;
    }
    if (entry.content !== null) item.temporary = writeTemporary(target, entry.content, mode, options.owner);
    return item;
  } catch (error) {
    if (item.temporary !== undefined) unlinkQuietly(target.dir, item.temporary);
    closeSync(target.dir);
    throw error instanceof CodeBuddyError ? error : fsError(error, entry.path);
  }
}

function commitOne(item: Prepared, undo: Undo[], backups: Backup[]): void {
  const { entry, target } = item;
  const path = at(target.dir, target.name);
  try {
    if (entry.base !== null) {
      const backup = scratchName(target.name, 'bak');
      const backupPath = at(target.dir, backup);
      const saved: Backup = { dir: target.dir, name: backup };
      if (entry.content === null) {
        renameSync(path, backupPath);
        backups.push(saved);
      } else {
        linkSync(path, backupPath);
        saved.replaced = true;
        backups.push(saved);
        renameSync(at(target.dir, item.temporary!), path);
        item.temporary = undefined;
      }
      undo.push({ run: () => renameSync(backupPath, path), backup: saved });
    } else {
      // link, not rename: a file that appeared there meanwhile is refused (EEXIST), never replaced.
      linkSync(at(target.dir, item.temporary!), path);
      undo.push({ run: () => unlinkSync(path) });
    }
  } catch (error) {
    throw fsError(error, entry.path);
  }
}

function readCurrent(target: Located, maxFileBytes: number): { sha256: string; mode: number } {
  let fd: number;
  try {
    fd = openSync(at(target.dir, target.name), READ_FILE);
  } catch (error) {
    throw fsError(error, target.relative);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new CodeBuddyError('E_NOT_A_FILE', `${target.relative} is not a regular file`, { path: target.relative });
    if (info.size > maxFileBytes) throw new CodeBuddyError('E_TOO_LARGE', `${target.relative} is ${info.size} bytes; the limit is ${maxFileBytes}`, { path: target.relative });
    return { sha256: sha256(readOpenFileSync(fd, info.size)), mode: info.mode & 0o7777 };
  } finally {
    closeSync(fd);
  }
}

function writeTemporary(target: Located, content: Buffer, mode: number, owner: Owner | undefined): string {
  const name = scratchName(target.name, 'tmp');
  const fd = openSync(at(target.dir, name), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  try {
    if (owner) fchownSync(fd, owner.uid, owner.gid);
    // Synchronous: the content is in memory and bounded by maxFileBytes.
    let written = 0;
    while (written < content.length) written += writeSync(fd, content, written);
  } catch (error) {
    closeSync(fd);
    unlinkQuietly(target.dir, name);
    throw error;
  }
  closeSync(fd);
  return name;
}

/** The ancestors of `path` that do not exist yet, shallowest first, so a failed set can remove what it made. */
function noteMissingDirectories(root: string, path: string, made: string[]): void {
  const parts = path.split('/').slice(0, -1);
  for (let depth = 1; depth <= parts.length; depth++) {
    const directory = parts.slice(0, depth).join('/');
    if (made.includes(directory)) continue;
    let exists = true;
    try {
      const located = locateInWorkspace(root, directory, { last: 'entry' });
      exists = located.info !== undefined;
      closeSync(located.dir);
    } catch {
      exists = false;
    }
    if (!exists) made.push(directory);
  }
}

function removeEmptyDirectory(root: string, directory: string): void {
  try {
    const located = locateInWorkspace(root, directory, { last: 'entry' });
    try {
      if (located.info?.isDirectory()) rmdirSync(at(located.dir, located.name));
    } finally {
      closeSync(located.dir);
    }
  } catch {
    // not empty (something else lives there now), or already gone: left as it is
  }
}

function unlinkQuietly(dir: number, name: string): void {
  try {
    unlinkSync(at(dir, name));
  } catch {
    // already renamed into place, or never made
  }
}
