import { closeSync, fstatSync, lstatSync, openSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { at, DIRECTORY } from './workspace-handle.js';

export interface TreeChange {
  /** Relative to the root, `/`-separated. */
  path: string;
  kind: 'created' | 'changed' | 'deleted';
  directory: boolean;
}

interface WatchedDirectory {
  watcher: FSWatcher | undefined;
  /** Its inode: a directory renamed over it is another one. */
  ino: number;
  /** Its entries as last seen: name → whether it is a directory (a symlink is not). */
  children: Map<string, boolean>;
}

/**
 * One directory tree watched through inotify: `fs.watch` on each directory (never its
 * recursive mode), each event checked for the one name it names.
 *
 * Why not chokidar: chokidar reads a whole directory again (readdir, and lstat of every
 * entry) after any event in it, back to back while events keep coming. A synced file written
 * back a few times a second in a directory of 200 files cost 75,000 lstats a minute and
 * milliseconds of the event loop per write. Here an event costs one lstat of its name, and
 * none for a file that was modified in place or for a skipped name (a write's temporary).
 *
 * Symlinks are never followed: a directory is watched only through a handle opened from the
 * root, component by component, with O_NOFOLLOW (workspace-handle.ts), so a directory
 * swapped for a link to the host is never watched; a link is reported as an entry, not walked.
 */
export class TreeWatch {
  readonly ready: Promise<void>;
  private readonly directories = new Map<string, WatchedDirectory>();
  /** Paths to check, waiting for the next turn; paths being checked; paths to check again once they are. */
  private readonly queued = new Set<string>();
  private readonly checking = new Set<string>();
  private readonly again = new Set<string>();
  private drainTimer: NodeJS.Immediate | undefined;
  private closed = false;

  constructor(
    private readonly root: string,
    /** Names never watched nor reported, at any depth. */
    private readonly skipped: (name: string) => boolean,
    private readonly report: (change: TreeChange) => void,
    /** A directory could not be watched (ENOSPC: the inotify watch limit) or a check failed. */
    private readonly failed: (error: unknown) => void,
  ) {
    this.ready = this.watchDirectory('', false);
  }

  close(): void {
    this.closed = true;
    if (this.drainTimer) clearImmediate(this.drainTimer);
    for (const watched of this.directories.values()) watched.watcher?.close();
    this.directories.clear();
  }

  /**
   * Watches a directory (opened from the root without following links), records its entries
   * and watches its subdirectories. `announce`: a directory that appeared after the initial
   * scan, whose entries are reported as created.
   */
  private async watchDirectory(path: string, announce: boolean): Promise<void> {
    let fd: number;
    try {
      fd = openSync(this.root, DIRECTORY);
      for (const part of path === '' ? [] : path.split('/')) {
        const next = openSync(at(fd, part), DIRECTORY);
        closeSync(fd);
        fd = next;
      }
    } catch {
      return; // gone, or a link now: its parent's event reports it
    }
    const subdirectories: string[] = [];
    try {
      if (this.closed || this.directories.has(path)) return;
      const watched: WatchedDirectory = { watcher: undefined, ino: fstatSync(fd).ino, children: new Map() };
      this.directories.set(path, watched);
      try {
        // Watched before it is listed: an entry made meanwhile is heard, not missed.
        watched.watcher = watch(at(fd), { persistent: true }, (event, name) => this.heard(path, event, name));
        watched.watcher.on('error', (error) => this.failed(error));
      } catch (error) {
        this.failed(error);
      }
      for (const entry of await readdir(at(fd), { withFileTypes: true })) {
        if (this.skipped(entry.name) || watched.children.has(entry.name)) continue;
        const directory = entry.isDirectory();
        watched.children.set(entry.name, directory);
        const child = path === '' ? entry.name : `${path}/${entry.name}`;
        if (announce) this.report({ path: child, kind: 'created', directory });
        if (directory) subdirectories.push(child);
      }
    } catch {
      // vanished while it was read: its parent's event reports it
    } finally {
      closeSync(fd);
    }
    for (const child of subdirectories) await this.watchDirectory(child, announce);
  }

  private heard(directory: string, event: string, name: string | Buffer | null): void {
    if (this.closed) return;
    const watched = this.directories.get(directory);
    if (!watched) return;
    if (typeof name !== 'string') {
      // No name (the kernel's queue overflowed): every entry of the directory is checked.
      for (const child of watched.children.keys()) this.queue(directory === '' ? child : `${directory}/${child}`);
      void this.rescan(directory);
      return;
    }
    if (this.skipped(name)) return;
    const known = watched.children.get(name);
    const path = directory === '' ? name : `${directory}/${name}`;
    // A file written in place: nothing to look up. A directory's own attributes: nothing to report.
    if (event === 'change' && known !== undefined && !this.queued.has(path) && !this.checking.has(path)) {
      if (!known) this.report({ path, kind: 'changed', directory: false });
      return;
    }
    this.queue(path);
  }

  private async rescan(directory: string): Promise<void> {
    try {
      for (const entry of await readdir(join(this.root, directory))) if (!this.skipped(entry)) this.queue(directory === '' ? entry : `${directory}/${entry}`);
    } catch {
      // gone: its parent's event reports it
    }
  }

  private queue(path: string): void {
    if (this.checking.has(path)) {
      this.again.add(path);
      return;
    }
    this.queued.add(path);
    this.drainTimer ??= setImmediate(() => this.drain());
  }

  /** The paths heard this turn, each checked once however many events named it. */
  private drain(): void {
    this.drainTimer = undefined;
    for (const path of this.queued) {
      this.queued.delete(path);
      this.checking.add(path);
      void this.check(path)
        .catch((error: unknown) => this.failed(error))
        .finally(() => {
          this.checking.delete(path);
          if (this.again.delete(path) && !this.closed) this.queue(path);
        });
    }
  }

  /**
   * What a name is now, against what it was: created, changed, deleted, or a directory
   * replaced. The lstat is synchronous: a dentry in the cache answers in ~10 µs, less than
   * handing it to the thread pool costs (the handle walk decided the same).
   */
  private async check(path: string): Promise<void> {
    const slash = path.lastIndexOf('/');
    const directory = slash < 0 ? '' : path.slice(0, slash);
    const name = path.slice(slash + 1);
    const parent = this.directories.get(directory);
    if (this.closed || !parent) return;
    let info: Stats | undefined;
    try {
      info = lstatSync(join(this.root, path));
    } catch {
      info = undefined;
    }
    const was = parent.children.get(name);
    const isDirectory = info?.isDirectory() ?? false;
    if (was === true && (!info || !isDirectory || this.directories.get(path)?.ino !== info.ino)) {
      // The directory went, or something else stands in its place now (a link, another directory).
      this.forget(path);
      parent.children.delete(name);
    } else if (was === false && (!info || isDirectory)) {
      parent.children.delete(name);
      this.report({ path, kind: 'deleted', directory: false });
    }
    if (!info) return;
    if (parent.children.has(name)) {
      if (!isDirectory) this.report({ path, kind: 'changed', directory: false });
      return;
    }
    parent.children.set(name, isDirectory);
    this.report({ path, kind: 'created', directory: isDirectory });
    if (isDirectory) await this.watchDirectory(path, true);
  }

  /** A directory that went: its watchers closed, everything known below it reported deleted, deepest first. */
  private forget(path: string): void {
    const watched = this.directories.get(path);
    if (watched) {
      this.directories.delete(path);
      watched.watcher?.close();
      for (const [name, directory] of watched.children) {
        if (directory) this.forget(`${path}/${name}`);
        else this.report({ path: `${path}/${name}`, kind: 'deleted', directory: false });
      }
    }
    this.report({ path, kind: 'deleted', directory: true });
  }
}
