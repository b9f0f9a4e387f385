import type { EventBus, FileChange } from '../core/event-bus.js';
import type { Logger } from '../core/logger.js';
import type { Workspace } from '../workspaces/workspace.js';
import { isScratchName } from './scratch-name.js';
import { TreeWatch, type TreeChange } from './tree-watch.js';

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
  watcher: TreeWatch;
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
 * The watching itself is tree-watch.ts (inotify, one lstat per event).
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
    const skipped = new Set(this.options.skippedDirectories);
    // Skipped directory names and the file service's scratch files (a write's temporary, gone a
    // moment later: it would only cost events nobody needs), at any depth.
    const skip = (name: string) => skipped.has(name) || isScratchName(name);
    const live: LiveWatcher = { watcher: undefined as unknown as TreeWatch, holders: 0, ready: Promise.resolve(), pending: new Map(), flushTimer: undefined };
    live.watcher = new TreeWatch(
      workspace.root,
      skip,
      (change) => this.record(workspace, live, change),
      (error) => {
        // ENOSPC: the inotify watch limit. The watcher goes on with what it has.
        live.degraded = (error as NodeJS.ErrnoException).code === 'ENOSPC' ? 'the inotify watch limit was reached; some directories are not watched' : String((error as Error).message ?? error);
        this.logger.warn({ workspaceId: workspace.id, err: error }, 'workspace watcher error');
      },
    );
    live.ready = live.watcher.ready;
    return live;
  }

  private record(workspace: Workspace, live: LiveWatcher, { path, kind, directory }: TreeChange): void {
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
    live.watcher.close();
  }
}

/** Two changes to one path within a debounce window, as one: what a reader who saw neither needs to know. */
function merged(earlier: FileChange['kind'] | undefined, later: FileChange['kind']): FileChange['kind'] {
  if (earlier === 'created' && later === 'changed') return 'created';
  if (earlier === 'deleted' && later === 'created') return 'changed';
  return later;
}
