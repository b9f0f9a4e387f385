import { closeSync, openSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import ignore, { type Ignore } from 'ignore';
import { Slots } from './slots.js';
import { readRegularFileAt } from './regular-file.js';
import { at, DIRECTORY, openWorkspaceDirectory } from './workspace-handle.js';

export interface TreeEntry {
  /** Workspace-relative, `/`-separated. */
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  depth: number;
}

interface IgnoreScope {
  /** Directory (workspace-relative) the .gitignore sits in; '' for the root. */
  base: string;
  rules: Ignore;
}

/** A .gitignore larger than this is not a list of patterns someone wrote: it is ignored. */
export const MAX_GITIGNORE_BYTES = 1024 * 1024;
/** Directories read at once by one walk (the thread pool has 4 threads by default). */
const WALK_SLOTS = 8;

/**
 * The rules of the .gitignore in the open directory `dir`, if it is a regular file of a
 * sane size. A FIFO, a device, a socket or a symlink named .gitignore is never opened
 * blocking, never followed and never read (workspace code writes these on purpose).
 */
async function loadGitignore(dir: number, base: string): Promise<IgnoreScope | undefined> {
  const content = await readRegularFileAt(dir, '.gitignore', MAX_GITIGNORE_BYTES);
  return content === undefined ? undefined : { base, rules: ignore().add(content.toString('utf8')) };
}

function isIgnored(scopes: readonly IgnoreScope[], path: string, isDirectory: boolean): boolean {
  for (const scope of scopes) {
    const relative = scope.base === '' ? path : path.slice(scope.base.length + 1);
    if (scope.rules.ignores(isDirectory ? `${relative}/` : relative)) return true;
  }
  return false;
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** A directory handle shared by the walks of its subdirectories: closed when the last one has opened its own. */
class SharedDirectory {
  private refs = 1;

  constructor(readonly fd: number) {}

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0) closeSync(this.fd);
  }
}

/**
 * Every entry below `start` (workspace-relative, canonical) in depth-first, name-sorted
 * order, honouring each .gitignore on the way down (and those above `start`) and never
 * entering `.git`. Each directory is opened from its parent's handle without following a
 * symlink (workspace-handle.ts), so neither a link nor one swapped in mid-walk leads it
 * outside: symlinks are reported, never followed.
 *
 * Sibling directories are read concurrently (the file system works in parallel on the
 * thread pool) and stitched back in order, so the result is deterministic: callers page
 * through it with a plain skip count.
 */
export async function walkTree(root: string, start: string, options: { maxDepth?: number; ignoredDirectories?: string[] } = {}): Promise<TreeEntry[]> {
  const walk: WalkContext = { slots: new Slots(WALK_SLOTS, 'lifo'), maxDepth: options.maxDepth ?? Number.POSITIVE_INFINITY, ignoredDirectories: options.ignoredDirectories };
  const scopes: IgnoreScope[] = [];
  let fd: number;
  try {
    fd = openSync(root, DIRECTORY);
  } catch {
    return [];
  }
  // Down to `start`, reading the .gitignore of each directory above it.
  const parts = start === '' ? [] : start.split('/');
  for (let index = 0; index < parts.length; index++) {
    const scope = await loadGitignore(fd, parts.slice(0, index).join('/'));
    if (scope) scopes.push(scope);
    let next: number;
    try {
      next = openSync(at(fd, parts[index]!), DIRECTORY);
    } catch {
      next = -1; // gone, or no longer a directory (a link now): nothing to list there
    } finally {
      closeSync(fd);
    }
    if (next < 0) return [];
    fd = next;
  }
  return readDirectory(walk, new SharedDirectory(fd), start, 1, scopes);
}

interface WalkContext {
  slots: Slots;
  maxDepth: number;
  /** Collects the directories skipped as ignored, when given. */
  ignoredDirectories: string[] | undefined;
}

/** Opens the subdirectory `name` of `parent` (taking over one reference to it) once a slot is free, and walks it. */
async function walkSubdirectory(walk: WalkContext, parent: SharedDirectory, name: string, directory: string, depth: number, inherited: readonly IgnoreScope[]): Promise<TreeEntry[]> {
  await walk.slots.acquire();
  let fd: number;
  try {
    fd = openSync(at(parent.fd, name), DIRECTORY);
  } catch {
    walk.slots.release();
    return []; // vanished or replaced meanwhile: nothing to list there
  } finally {
    parent.release();
  }
  return readDirectory(walk, new SharedDirectory(fd), directory, depth, inherited, true);
}

/** Lists the open directory `dir` (taking over one reference to it) and walks its subdirectories. */
async function readDirectory(walk: WalkContext, dir: SharedDirectory, directory: string, depth: number, inherited: readonly IgnoreScope[], holdsSlot = false): Promise<TreeEntry[]> {
  if (!holdsSlot) await walk.slots.acquire();
  const kept: TreeEntry[] = [];
  const subtrees: Promise<TreeEntry[]>[] = [];
  try {
    let entries;
    try {
      entries = await readdir(at(dir.fd), { withFileTypes: true });
    } catch {
      return []; // vanished or unreadable meanwhile: nothing to list there
    }
    // Only a directory that has a .gitignore pays for reading one.
    const own = entries.some((entry) => entry.name === '.gitignore' && entry.isFile()) ? await loadGitignore(dir.fd, directory) : undefined;
    const scopes = own ? [...inherited, own] : inherited;

    entries.sort(byName);
    for (const entry of entries) {
      if (entry.name === '.git') continue;
      const path = directory === '' ? entry.name : `${directory}/${entry.name}`;
      const isDirectory = entry.isDirectory();
      if (isIgnored(scopes, path, isDirectory)) {
        if (isDirectory) walk.ignoredDirectories?.push(path);
        continue;
      }
      kept.push({ path, type: isDirectory ? 'directory' : entry.isFile() ? 'file' : entry.isSymbolicLink() ? 'symlink' : 'other', depth });
      if (isDirectory && depth < walk.maxDepth) subtrees.push(walkSubdirectory(walk, dir.retain(), entry.name, path, depth + 1, scopes));
    }
  } finally {
    walk.slots.release();
    dir.release();
  }

  const children = await Promise.all(subtrees);
  const out: TreeEntry[] = [];
  let next = 0;
  for (const entry of kept) {
    out.push(entry);
    if (entry.type === 'directory' && entry.depth < walk.maxDepth) for (const child of children[next++]!) out.push(child);
  }
  return out;
}

/**
 * Whether walkTree(root, start) would leave out the file at `path`: below a `.git`, or
 * ignored (it, or a directory between `start` and it) by a .gitignore on the way. For
 * judging a few paths found by other means (ripgrep's own walk) without walking the whole
 * tree. Each .gitignore is read as the walk reads it, once per instance.
 */
export class WalkExclusion {
  private readonly scopes = new Map<string, Promise<IgnoreScope | undefined>>();

  constructor(private readonly root: string) {}

  async excludes(path: string, start: string): Promise<boolean> {
    const parts = path.split('/');
    const startDepth = start === '' ? 0 : start.split('/').length;
    const scopes: IgnoreScope[] = [];
    for (let depth = 0; depth < parts.length; depth++) {
      const scope = await this.scopeOf(parts.slice(0, depth).join('/'));
      if (scope) scopes.push(scope);
      if (depth < startDepth) continue; // the walk lists below its start, whatever the start itself is
      if (parts[depth] === '.git' || isIgnored(scopes, parts.slice(0, depth + 1).join('/'), depth < parts.length - 1)) return true;
    }
    return false;
  }

  private scopeOf(directory: string): Promise<IgnoreScope | undefined> {
    let scope = this.scopes.get(directory);
    if (!scope) this.scopes.set(directory, (scope = this.load(directory)));
    return scope;
  }

  private async load(directory: string): Promise<IgnoreScope | undefined> {
    let fd: number;
    try {
      fd = openWorkspaceDirectory(this.root, directory).fd;
    } catch {
      return undefined;
    }
    try {
      return await loadGitignore(fd, directory);
    } finally {
      closeSync(fd);
    }
  }
}
