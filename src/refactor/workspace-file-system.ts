import { closeSync, fstatSync, openSync, readdirSync } from 'node:fs';
import type { FileSystemHost, RuntimeDirEntry } from 'ts-morph';
import picomatch from 'picomatch';
import { CodeBuddyError } from '../core/errors.js';
import { readOpenFileSync } from '../files/regular-file.js';
import { at, canonicalInWorkspace, locateInWorkspace, openWorkspaceDirectory, openWorkspaceFile, ParentDirectories, READ_FILE } from '../files/workspace-handle.js';
import { WORKSPACE_MOUNT } from '../workspaces/workspace.js';

/** Directories a project never reads by listing (module resolution still probes node_modules by name). */
const UNLISTED = new Set(['.git', 'node_modules']);

/**
 * What ts-morph (and the compiler inside it) sees as its file system: the workspace, read
 * only through the handle walk (workspace-handle.ts), under the virtual root `/workspace`.
 * Nothing outside that root exists for it, so neither a symlink to `/etc` inside the
 * workspace nor a path the compiler makes up (`/node_modules/@types`) reaches the host;
 * the host path of the workspace never appears in a plan. It never writes: refactors
 * compute plans, and the file service applies them.
 */
export class WorkspaceFileSystem implements FileSystemHost {
  constructor(
    private readonly root: string,
    private readonly maxFileBytes: number,
  ) {}

  /** `/workspace/src/a.ts` → `src/a.ts`; undefined for anything outside the workspace. */
  relative(path: string): string | undefined {
    if (path === WORKSPACE_MOUNT || path === `${WORKSPACE_MOUNT}/`) return '';
    if (!path.startsWith(`${WORKSPACE_MOUNT}/`)) return undefined;
    return path.slice(WORKSPACE_MOUNT.length + 1).replace(/\/+$/, '');
  }

  absolute(relative: string): string {
    return relative === '' ? WORKSPACE_MOUNT : `${WORKSPACE_MOUNT}/${relative}`;
  }

  isCaseSensitive(): boolean {
    return true;
  }

  readFileSync(filePath: string): string {
    return this.readBytesSync(filePath).toString('utf8');
  }

  /** The file's bytes, as the handle walk finds them now (for a plan's base versions). */
  readBytesSync(filePath: string): Buffer {
    const relative = this.relative(filePath);
    if (relative === undefined) throw notFound(filePath);
    let opened;
    try {
      opened = openWorkspaceFile(this.root, relative);
    } catch (error) {
      throw asNotFound(error, filePath);
    }
    try {
      return this.readOpened(opened.fd, relative);
    } finally {
      closeSync(opened.fd);
    }
  }

  /**
   * Reads many files one after another, as a plan reads its base versions: each opened
   * from its directory's handle, kept open while the next path shares it (sorted paths
   * mostly do), so a file costs one open instead of a walk from the root; a symlink as the
   * last component is walked in full. Each answer carries the file's canonical path (what
   * `canonical` says), found by the same walk. Close the reader after.
   */
  reader(): { read(relative: string): { bytes: Buffer; canonical: string }; close(): void } {
    const parents = new ParentDirectories(this.root);
    const read = (relative: string) => {
      const filePath = this.absolute(relative);
      let opened: { fd: number; relative: string };
      try {
        const { dir, name, canonicalParent } = parents.parentOf(relative);
        // Only a plain name is opened from the handle; anything else takes the full walk, which refuses what leads out.
        if (name === '' || name === '.' || name === '..') throw Object.assign(new Error('not a plain name'), { code: 'ELOOP' });
        opened = { fd: openSync(at(dir, name), READ_FILE), relative: canonicalParent === '' ? name : `${canonicalParent}/${name}` };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ELOOP') throw asNotFound(error, filePath);
        try {
          opened = openWorkspaceFile(this.root, relative);
        } catch (walkError) {
          throw asNotFound(walkError, filePath);
        }
      }
      try {
        return { bytes: this.readOpened(opened.fd, relative), canonical: opened.relative };
      } finally {
        closeSync(opened.fd);
      }
    };
    return { read, close: () => parents.close() };
  }

  private readOpened(fd: number, relative: string): Buffer {
    const info = fstatSync(fd);
    if (!info.isFile()) throw notFound(this.absolute(relative));
    if (info.size > this.maxFileBytes) throw new CodeBuddyError('E_TOO_LARGE', `${relative} is ${info.size} bytes; refactors read files up to ${this.maxFileBytes}`);
    return readOpenFileSync(fd, info.size);
  }

  async readFile(filePath: string): Promise<string> {
    return this.readFileSync(filePath);
  }

  fileExistsSync(filePath: string): boolean {
    return this.entryType(filePath) === 'file';
  }

  async fileExists(filePath: string): Promise<boolean> {
    return this.fileExistsSync(filePath);
  }

  directoryExistsSync(dirPath: string): boolean {
    return this.entryType(dirPath) === 'directory';
  }

  async directoryExists(dirPath: string): Promise<boolean> {
    return this.directoryExistsSync(dirPath);
  }

  /** What a path leads to, symlinks inside the workspace followed; anything refused is nothing. */
  private entryType(path: string): 'file' | 'directory' | undefined {
    const relative = this.relative(path);
    if (relative === undefined) return undefined;
    try {
      const located = locateInWorkspace(this.root, relative, { last: 'follow' });
      closeSync(located.dir);
      if (located.info?.isFile()) return 'file';
      if (located.info?.isDirectory()) return 'directory';
      return undefined;
    } catch {
      return undefined;
    }
  }

  readDirSync(dirPath: string): RuntimeDirEntry[] {
    const relative = this.relative(dirPath);
    if (relative === undefined) throw notFound(dirPath);
    let opened;
    try {
      opened = openWorkspaceDirectory(this.root, relative);
    } catch (error) {
      throw asNotFound(error, dirPath);
    }
    try {
      const entries: RuntimeDirEntry[] = [];
      for (const entry of readdirSync(at(opened.fd), { withFileTypes: true })) {
        const path = opened.relative === '' ? entry.name : `${opened.relative}/${entry.name}`;
        if (entry.isSymbolicLink()) {
          // A link is listed as what it leads to, when that is inside; one leading out is not listed at all.
          const type = this.entryType(this.absolute(path));
          if (type) entries.push({ name: this.absolute(path), isFile: type === 'file', isDirectory: type === 'directory', isSymlink: true });
          continue;
        }
        if (!entry.isFile() && !entry.isDirectory()) continue;
        entries.push({ name: this.absolute(path), isFile: entry.isFile(), isDirectory: entry.isDirectory(), isSymlink: false });
      }
      return entries;
    } finally {
      closeSync(opened.fd);
    }
  }

  /** The canonical workspace-relative path of a relative one (symlinks inside resolved). */
  canonical(relative: string): string {
    return canonicalInWorkspace(this.root, relative);
  }

  realpathSync(path: string): string {
    const relative = this.relative(path);
    if (relative === undefined) return path;
    try {
      return this.absolute(canonicalInWorkspace(this.root, relative));
    } catch {
      return path;
    }
  }

  getCurrentDirectory(): string {
    return WORKSPACE_MOUNT;
  }

  /** Files below the root matching any pattern (absolute, under /workspace); .git and node_modules are not walked. */
  globSync(patterns: ReadonlyArray<string>): string[] {
    const include = patterns.filter((pattern) => !pattern.startsWith('!'));
    const exclude = patterns.filter((pattern) => pattern.startsWith('!')).map((pattern) => pattern.slice(1));
    const matches = picomatch(include, { dot: false });
    const excluded = exclude.length > 0 ? picomatch(exclude) : () => false;
    const found: string[] = [];
    const visit = (directory: string) => {
      for (const entry of this.readDirSync(directory)) {
        if (entry.isDirectory) {
          if (!entry.isSymlink && !UNLISTED.has(entry.name.slice(entry.name.lastIndexOf('/') + 1))) visit(entry.name);
        } else if (entry.isFile && matches(entry.name) && !excluded(entry.name)) found.push(entry.name);
      }
    };
    visit(WORKSPACE_MOUNT);
    return found;
  }

  async glob(patterns: ReadonlyArray<string>): Promise<string[]> {
    return this.globSync(patterns);
  }

  // A plan is computed, never saved: the file service applies it, atomically and under policy.
  deleteSync(): void {
    throw readOnly();
  }
  async delete(): Promise<void> {
    throw readOnly();
  }
  writeFileSync(): void {
    throw readOnly();
  }
  async writeFile(): Promise<void> {
    throw readOnly();
  }
  mkdirSync(): void {
    throw readOnly();
  }
  async mkdir(): Promise<void> {
    throw readOnly();
  }
  moveSync(): void {
    throw readOnly();
  }
  async move(): Promise<void> {
    throw readOnly();
  }
  copySync(): void {
    throw readOnly();
  }
  async copy(): Promise<void> {
    throw readOnly();
  }
}

function readOnly(): Error {
  return new Error('the refactoring file system is read-only: plans are applied by the file service');
}

/** The not-found error ts-morph and the compiler recognise (code ENOENT). */
function notFound(path: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, '${path}'`), { code: 'ENOENT' });
}

function asNotFound(error: unknown, path: string): Error {
  if (error instanceof CodeBuddyError && error.code === 'E_TOO_LARGE') return error;
  return notFound(path);
}
