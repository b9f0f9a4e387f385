import { chownSync, closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readlinkSync, type Stats } from 'node:fs';
import { CodeBuddyError } from '../core/errors.js';
import { fsError } from './fs-errors.js';
import { assertNameable, normalizeRelative, outside } from './relative-path.js';
import { WORKSPACE_MOUNT } from '../workspaces/workspace.js';

/*
 * Race-free access to a workspace's files.
 *
 * Checking a path with realpath and then using it again by name leaves a window: code in the
 * workspace can swap a directory for a symlink to the host in between (renameat2
 * RENAME_EXCHANGE in a loop wins that race often). So nothing here is ever used by name from
 * the root down. The walk opens the workspace root, then each component from the handle of
 * the directory before it, as `/proc/self/fd/<dir>/<name>` with O_NOFOLLOW: the kernel
 * follows the magic link to the very directory the handle holds (wherever it has been moved
 * to), and refuses a symlink as the component itself. The caller then acts on the final
 * handle (fstat, read, fchown) or on `/proc/self/fd/<dir>/<name>` (rename, unlink, rmdir,
 * mkdir: none of these follow their last component). No openat binding exists for Node;
 * the magic links give the same guarantee, Linux only.
 *
 * Symlinks that stay inside the workspace keep working: a link met on the way is read
 * (readlink, never followed by the kernel), its target joined lexically to the canonical
 * path of its directory, and the walk starts again from the root handle, at most
 * MAX_SYMLINK_HOPS times. A target that climbs above the root, or an absolute target not
 * under it, is refused. Wherever a link points, and whatever is swapped meanwhile, every
 * handle the walk opens was reached from the root through real directories, so it is inside.
 */

/** Linux's O_PATH (not in fs.constants): names a directory without opening it for reading, so walking needs only search permission. */
const O_PATH = 0o10000000;
const { O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_RDONLY } = constants;
/** Directories to walk through or list: a symlink or a file there fails (ENOTDIR), never followed. */
export const DIRECTORY = O_PATH | O_DIRECTORY | O_NOFOLLOW;
/** Files the server reads: a symlink fails (ELOOP), and a FIFO opens at once instead of waiting for a writer (its fstat then refuses it). */
export const READ_FILE = O_RDONLY | O_NOFOLLOW | O_NONBLOCK;
/** Linux's MAXSYMLINKS: more hops than this is a loop. */
const MAX_SYMLINK_HOPS = 40;

/** The kernel's way to `name` in the directory the handle `dir` holds; `at(dir)` is that directory. */
export function at(dir: number, name = ''): string {
  return name === '' ? `/proc/self/fd/${dir}` : `/proc/self/fd/${dir}/${name}`;
}

export interface Owner {
  uid: number;
  gid: number;
}

/** The directory entry a path names, with its directory open. The caller closes `dir`. */
export interface Located {
  /** Handle (O_PATH) on the directory holding the entry; for the root itself, the root's. */
  dir: number;
  /** The entry's name in `dir`; '' when the path names the workspace root. */
  name: string;
  /** Canonical workspace-relative path: symlinks on the way resolved, `/`-separated. */
  relative: string;
  /** lstat of the entry when the walk reached it; undefined when there is none. */
  info: Stats | undefined;
}

const codeOf = (error: unknown) => (error as NodeJS.ErrnoException).code;

/** The root is the server's own (or the operator's adopted) directory: its path is trusted, its contents are not. */
function openRoot(root: string): number {
  try {
    return openSync(root, DIRECTORY);
  } catch (error) {
    throw fsError(error, '');
  }
}

function isSymlink(dir: number, name: string): boolean {
  try {
    return lstatSync(at(dir, name)).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * One walk from the root to a path's last component. It owns the components still to
 * walk, which a symlink on the way replaces (its target, then the rest), and counts hops
 * across every restart so a loop ends.
 */
class Walk {
  private components: string[];
  private hops = 0;

  constructor(
    private readonly root: string,
    private readonly path: string,
    private readonly createParents?: { owner?: Owner },
  ) {
    const relative = normalizeRelative(path);
    this.components = relative === '' ? [] : relative.split('/');
  }

  get relative(): string {
    return this.components.join('/');
  }

  private get lastIndex(): number {
    return this.components.length - 1;
  }

  /**
   * Opens the directory holding the last component, following symlinks before it (inside
   * the workspace only). The caller closes `dir`.
   */
  parent(): { dir: number; name: string; relative: string } {
    for (;;) {
      assertNameable(this.root, this.components);
      let dir = openRoot(this.root);
      let depth = 0;
      try {
        while (depth < this.lastIndex) {
          const next = this.child(dir, depth);
          if (next === undefined) break; // a symlink: the components changed, start again from the root
          closeSync(dir);
          dir = next;
          depth++;
        }
      } catch (error) {
        closeSync(dir);
        throw error;
      }
      if (depth < this.lastIndex) {
        closeSync(dir);
        continue;
      }
      return { dir, name: this.components[this.lastIndex] ?? '', relative: this.relative };
    }
  }

  /** Opens component `index` as a directory from `dir`; undefined when it was a symlink (then followed, lexically). */
  private child(dir: number, index: number): number | undefined {
    const name = this.components[index]!;
    try {
      return openSync(at(dir, name), DIRECTORY);
    } catch (error) {
      const code = codeOf(error);
      if (code === 'ENOENT' && this.createParents) return this.makeDirectory(dir, name);
      if (code === 'ENOTDIR' && isSymlink(dir, name)) {
        this.follow(dir, index);
        return undefined;
      }
      throw fsError(error, this.relative);
    }
  }

  /** mkdir, then the new directory handed to the workspace's owner (Docker workspaces run commands as that uid). */
  private makeDirectory(dir: number, name: string): number {
    let made = true;
    try {
      mkdirSync(at(dir, name));
    } catch (error) {
      if (codeOf(error) !== 'EEXIST') throw fsError(error, this.relative);
      made = false; // someone else made it meanwhile: use it, as it is
    }
    let fd: number;
    try {
      // A symlink swapped in since the mkdir fails here (ENOTDIR), never followed.
      fd = openSync(at(dir, name), DIRECTORY);
    } catch (error) {
      throw fsError(error, this.relative);
    }
    const owner = this.createParents?.owner;
    try {
      // chown through the handle: the directory just opened, even if the name was swapped since.
      if (made && owner) chownSync(at(fd), owner.uid, owner.gid);
    } catch (error) {
      closeSync(fd);
      throw fsError(error, this.relative);
    }
    return fd;
  }

  /**
   * Replaces component `index` (a symlink in `dir`) by its target: relative targets join
   * the canonical path of `dir`, absolute ones must lie under the root. `..` is applied
   * lexically (a `..` after a link in the target is taken literally, not through the link:
   * stricter than the kernel, never wider than the workspace).
   */
  follow(dir: number, index: number): void {
    if (++this.hops > MAX_SYMLINK_HOPS) throw outside(this.path, 'goes through a symlink loop');
    let target: string;
    try {
      target = readlinkSync(at(dir, this.components[index]!));
    } catch (error) {
      if (codeOf(error) === 'EINVAL') return; // no longer a link: walk the same components again
      throw fsError(error, this.relative);
    }
    let base: string[];
    if (target.startsWith('/')) {
      // Absolute links name the workspace by its host path, or by /workspace, where commands
      // see it (in a local sandbox and in a Docker container alike).
      const prefix = [this.root, WORKSPACE_MOUNT].find((name) => target === name || target.startsWith(`${name}/`));
      if (prefix === undefined) throw outside(this.path, 'leads outside the workspace');
      base = [];
      target = target.slice(prefix.length);
    } else {
      base = this.components.slice(0, index);
    }
    for (const segment of target.split('/')) {
      if (segment === '' || segment === '.') continue;
      if (segment !== '..') base.push(segment);
      else if (base.pop() === undefined) throw outside(this.path, 'leads outside the workspace');
    }
    this.components = [...base, ...this.components.slice(index + 1)];
  }

  /** Opens the last component with `flags` (which must include O_NOFOLLOW), following a symlink there. */
  open(flags: number): { fd: number; relative: string } {
    for (;;) {
      const { dir, name, relative } = this.parent();
      try {
        // The root itself is reached through its handle's magic link, which O_NOFOLLOW would refuse.
        return { fd: name === '' ? openSync(at(dir), flags & ~O_NOFOLLOW) : openSync(at(dir, name), flags), relative };
      } catch (error) {
        const code = codeOf(error);
        const wantsDirectory = (flags & O_DIRECTORY) !== 0;
        const link = code === 'ELOOP' || (code === 'ENOTDIR' && wantsDirectory && isSymlink(dir, name));
        if (code === 'ENOTDIR' && wantsDirectory && !link) throw new CodeBuddyError('E_NOT_A_DIRECTORY', `${relative} is not a directory`, { field: 'path' });
        if (!link) throw fsError(error, relative);
        this.follow(dir, this.lastIndex);
      } finally {
        closeSync(dir);
      }
    }
  }

  /** The last component's entry, its directory left open; a symlink there is followed, or (`entry`) kept but checked to stay inside. */
  locate(last: 'follow' | 'entry'): Located {
    for (;;) {
      const { dir, name, relative } = this.parent();
      let keep = false;
      try {
        const info = name === '' ? fstatSync(dir) : lstatEntry(dir, name, relative);
        if (info?.isSymbolicLink()) {
          if (last === 'follow') {
            this.follow(dir, this.lastIndex);
            continue;
          }
          this.assertLinkStaysInside(dir);
        }
        keep = true;
        return { dir, name, relative, info };
      } finally {
        if (!keep) closeSync(dir);
      }
    }
  }

  private assertLinkStaysInside(dir: number): void {
    const target = new Walk(this.root, this.path);
    target.components = [...this.components];
    target.follow(dir, this.lastIndex);
    target.canonical();
  }

  /**
   * Where the path leads, following every symlink inside the workspace; a missing part is
   * taken as written. For policies and messages, which need a name, not a handle.
   */
  canonical(): string {
    for (;;) {
      let parent;
      try {
        parent = this.parent();
      } catch (error) {
        if (error instanceof CodeBuddyError && (error.code === 'E_NOT_FOUND' || error.code === 'E_NOT_A_DIRECTORY')) return this.relative;
        throw error;
      }
      try {
        if (parent.name === '' || !isSymlink(parent.dir, parent.name)) return parent.relative;
        this.follow(parent.dir, this.lastIndex);
      } finally {
        closeSync(parent.dir);
      }
    }
  }
}

function lstatEntry(dir: number, name: string, relative: string): Stats | undefined {
  try {
    return lstatSync(at(dir, name));
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw fsError(error, relative);
  }
}

/**
 * Opens the file a path names for reading: symlinks inside the workspace followed, never
 * blocking (a FIFO opens at once). The caller fstat's the handle before reading and closes it.
 */
export function openWorkspaceFile(root: string, path: string): { fd: number; relative: string } {
  return new Walk(root, path).open(READ_FILE);
}

/** Opens the directory a path names (a handle for walking below it). The caller closes it. */
export function openWorkspaceDirectory(root: string, path: string): { fd: number; relative: string } {
  return new Walk(root, path).open(DIRECTORY);
}

/**
 * The entry a path names, its directory open. `follow`: a symlink as the last component
 * is followed (reads, writes: they act on what the link leads to); `entry`: the link itself
 * (stat, delete, move), refused when it leads outside. `createParents` makes missing
 * directories on the way, given to `owner`.
 */
export function locateInWorkspace(root: string, path: string, options: { last: 'follow' | 'entry'; createParents?: { owner?: Owner } }): Located {
  return new Walk(root, path, options.createParents).locate(options.last);
}

/** The canonical workspace-relative path a path leads to (missing parts as written); refuses what leads outside. */
export function canonicalInWorkspace(root: string, path: string): string {
  return new Walk(root, path).canonical();
}

/**
 * Opens entries of a walk's answer one after another, keeping the last parent directory
 * open: consecutive entries of a depth-first walk mostly share it, so each costs one open.
 */
export class ParentDirectories {
  private current: { relative: string; fd: number; canonical: string } | undefined;

  constructor(private readonly root: string) {}

  /** The open directory holding `path`, the entry's name in it, and the directory's canonical path (symlinks on the way resolved). */
  parentOf(path: string): { dir: number; name: string; canonicalParent: string } {
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? '' : path.slice(0, slash);
    if (this.current?.relative !== parent) {
      this.close();
      const opened = openWorkspaceDirectory(this.root, parent);
      this.current = { relative: parent, fd: opened.fd, canonical: opened.relative };
    }
    return { dir: this.current.fd, name: path.slice(slash + 1), canonicalParent: this.current.canonical };
  }

  close(): void {
    if (this.current) closeSync(this.current.fd);
    this.current = undefined;
  }
}
