import { relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { EventBus, FileChange } from '../core/event-bus.js';
import type { Logger } from '../core/logger.js';
import type { Workspace } from '../workspaces/workspace.js';
import { isScratchName } from './scratch-name.js';

export interface WatcherOptions {
  /** Changes are gathered this long after the first one, then published as one event. */
  debounceMs: number;
  /** Directory names never watched at any depth: trees nobody edits by hand, heavy on inotify. */
  skippedDirectories: readonly string[];
}

/** One holder's use of a workspace's watcher. */
export interface WatchLease {
  /** Resolves once the initial scan is done: changes from then on are seen. */
  ready: Promise<void>;
  release(): void;
}

export interface WatcherState {
  watching: boolean;
  /** Why some changes may be missed (e.g. the inotify watch limit), when that happened. */
  degraded?: string;
}

interface LiveWatcher {
  watcher: FSWatcher;
  holders: number;
  ready: Promise<void>;
  pending: Map<string, FileChange>;
  flushTimer: NodeJS.Timeout | undefined;
  degraded?: string;
}

/**
 * Sees changes made to a workspace's files by anyone — commands, terminals, editors, the
 * file tools — and publishes them on the bus as `files.changed` (origin `watcher`),
 * debounced. A workspace is watched only while something holds a lease on it (a running
 * language server, an open sync document), so idle workspaces cost no inotify watches.
 *
 * Symlinks are never followed: a link to `/` inside a workspace must not make the server
 * watch (and report names from) the host. Holders that need certainty about one file
 * (an open document) check it on disk as well; the watcher tells them about the rest.
 */
export class WorkspaceWatchers {
  private readonly live = new Map<string, LiveWatcher>();

  constructor(
    private readonly events: EventBus,
    private readonly logger: Logger,
    private readonly options: WatcherOptions,
  ) {
    // A deleted workspace's watcher goes with it, whoever still holds a lease.
    events.subscribe('workspace.deleted', ({ workspaceId }) => void this.close(workspaceId));
  }

  watch(workspace: Workspace): WatchLease {
    let live = this.live.get(workspace.id);
    if (!live) {
      live = this.start(workspace);
      this.live.set(workspace.id, live);
    }
    live.holders += 1;
    let released = false;
    const held = live;
    return {
      ready: live.ready,
      release: () => {
        if (released) return;
        released = true;
        held.holders -= 1;
        if (held.holders === 0 && this.live.get(workspace.id) === held) void this.close(workspace.id);
      },
    };
  }

  state(workspaceId: string): WatcherState {
    const live = this.live.get(workspaceId);
    if (!live) return { watching: false };
    return live.degraded === undefined ? { watching: true } : { watching: true, degraded: live.degraded };
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.live.keys()].map((id) => this.close(id)));
  }

  private start(workspace: Workspace): LiveWatcher {
    const watcher = watch(workspace.root, {
      ignoreInitial: true,
      followSymlinks: false,
      persistent: true,
      ignored: skippedBelow(workspace.root, this.options.skippedDirectories),
    });
    const live: LiveWatcher = {
      watcher,
      holders: 0,
      ready: new Promise((resolve) => watcher.once('ready', () => resolve())),
      pending: new Map(),
      flushTimer: undefined,
    };
    const record = (kind: FileChange['kind'], directory: boolean) => (path: string) => this.record(workspace, live, path, kind, directory);
    watcher.on('add', record('created', false));
    watcher.on('change', record('changed', false));
    watcher.on('unlink', record('deleted', false));
    watcher.on('addDir', record('created', true));
    watcher.on('unlinkDir', record('deleted', true));
    watcher.on('error', (error) => {
      // ENOSPC: the inotify watch limit. The watcher goes on with what it has.
      live.degraded = (error as NodeJS.ErrnoException).code === 'ENOSPC' ? 'the inotify watch limit was reached; some directories are not watched' : String((error as Error).message ?? error);
      this.logger.warn({ workspaceId: workspace.id, err: error }, 'workspace watcher error');
    });
    return live;
  }

  private record(workspace: Workspace, live: LiveWatcher, absolute: string, kind: FileChange['kind'], directory: boolean): void {
    const path = relative(workspace.root, absolute).split(sep).join('/');
    if (path === '' || path.startsWith('..')) return;
    live.pending.set(path, { path, kind: merged(live.pending.get(path)?.kind, kind), ...(directory ? { directory: true } : {}) });
    live.flushTimer ??= setTimeout(() => this.flush(workspace, live), this.options.debounceMs);
  }

  private flush(workspace: Workspace, live: LiveWatcher): void {
    live.flushTimer = undefined;
    if (live.pending.size === 0) return;
    const changes = [...live.pending.values()];
    live.pending.clear();
    this.events.publish('files.changed', { tenantId: workspace.tenantId, workspaceId: workspace.id, changes, origin: 'watcher' });
  }

  private async close(workspaceId: string): Promise<void> {
    const live = this.live.get(workspaceId);
    if (!live) return;
    this.live.delete(workspaceId);
    if (live.flushTimer) clearTimeout(live.flushTimer);
    await live.watcher.close().catch((error: unknown) => this.logger.warn({ workspaceId, err: error }, 'closing a workspace watcher failed'));
  }
}

/** Two changes to one path within a debounce window, as one: what a reader who saw neither needs to know. */
function merged(earlier: FileChange['kind'] | undefined, later: FileChange['kind']): FileChange['kind'] {
  if (earlier === 'created' && later === 'changed') return 'created';
  if (earlier === 'deleted' && later === 'created') return 'changed';
  return later;
}

/**
 * Whether a path chokidar reports has a skipped directory name as any segment below the root,
 * so `a/node_modules/b` is skipped too, or is one of the file service's scratch files (a
 * write's temporary, gone a moment later: watching it would only cost a stat, a watch and
 * two events nobody needs). Plain string tests: chokidar asks for every entry of
 * a directory each time it reads it again, which it does after each change in it (a synced
 * file written every second in a directory of 200 made path.relative a hot spot).
 */
function skippedBelow(root: string, names: readonly string[]): (path: string) => boolean {
  const prefix = root.endsWith(sep) ? root : root + sep;
  const inner = names.map((name) => `${sep}${name}${sep}`);
  const leading = names.map((name) => `${name}${sep}`);
  const trailing = names.map((name) => `${sep}${name}`);
  const skipped = new Set(names);
  return (path: string) => {
    if ((path.endsWith('.cb-tmp') || path.endsWith('.cb-bak')) && isScratchName(path.slice(path.lastIndexOf(sep) + 1))) return true;
    if (!path.startsWith(prefix)) return relative(root, path).split(sep).some((segment) => skipped.has(segment));
    const below = path.slice(prefix.length);
    if (skipped.has(below)) return true;
    for (let i = 0; i < inner.length; i++) {
      if (below.startsWith(leading[i]!) || below.endsWith(trailing[i]!) || below.includes(inner[i]!)) return true;
    }
    return false;
  };
}
