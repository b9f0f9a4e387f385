/**
 * The in-process bus services publish what happened on, and other services and faces
 * subscribe to (the language-server pool, notes, sync, the LSP facade). Delivery is
 * synchronous and in order; a listener that throws is logged and does not stop the others,
 * so one faulty subscriber cannot break the publisher's call.
 */

/** A path inside a workspace, relative to its root, with `/` separators. */
export type WorkspacePath = string;

export interface FileChange {
  path: WorkspacePath;
  kind: 'created' | 'changed' | 'deleted';
  /** The path is a directory (a deleted one takes everything below it along). */
  directory?: boolean;
}

/** Every event names its workspace and tenant, so a subscriber never mixes them up. */
export interface WorkspaceEvent {
  tenantId: string;
  workspaceId: string;
}

export interface BusEvents {
  /**
   * Files changed on disk. `origin` says who saw it: an operation that just wrote
   * (published once the write is done, before the call returns) or the workspace's file
   * watcher (commands, terminals, anything else; debounced). A change may be announced by
   * both, in either order. `actionId` names the recorded action that made it, when an
   * operation did; a reader woken by the watcher's event learns it from the content it reads
   * (`FileService.writerOf`).
   */
  'files.changed': WorkspaceEvent & { changes: FileChange[]; origin: 'operation' | 'watcher'; actionId?: string };
  /** A file or directory moved (file_move, later refactor_move): links to it follow. */
  'files.moved': WorkspaceEvent & { from: WorkspacePath; to: WorkspacePath; actionId?: string };
  /**
   * A note was created, changed (note_update, task_update, an approved proposal of either)
   * or deleted, by the notes service once the change is committed. `actionId` names the
   * recorded action that made it; `version` is the note's version after it (not for a delete).
   */
  'notes.changed': WorkspaceEvent & { noteId: string; kind: 'created' | 'updated' | 'deleted'; version?: number; actionId?: string };
  /**
   * A workspace's container is about to stop (workspace_stop), or stopped or vanished behind
   * the server's back: end what runs in it. `reason` says why, as the workspace's status does.
   */
  'workspace.stopped': WorkspaceEvent & { reason?: string };
  /**
   * A workspace is being deleted (published before its container and files go): end what
   * runs in it and drop everything held for it.
   */
  'workspace.deleted': WorkspaceEvent;
  /**
   * A held action (proposal) was proposed or changed state (approved, rejected, expired,
   * applying, applied, failed), published once its transition is committed.
   */
  'action.changed': WorkspaceEvent & { actionId: string; operation: string; state: string };
}

export type BusListener<K extends keyof BusEvents> = (event: BusEvents[K]) => void;

export class EventBus {
  private readonly listeners = new Map<keyof BusEvents, Set<(event: never) => void>>();

  constructor(private readonly onListenerError: (error: unknown, topic: keyof BusEvents) => void = () => {}) {}

  publish<K extends keyof BusEvents>(topic: K, event: BusEvents[K]): void {
    const listeners = this.listeners.get(topic);
    if (!listeners) return;
    for (const listener of [...listeners]) {
      try {
        (listener as BusListener<K>)(event);
      } catch (error) {
        this.onListenerError(error, topic);
      }
    }
  }

  /** Returns the unsubscribe function. */
  subscribe<K extends keyof BusEvents>(topic: K, listener: BusListener<K>): () => void {
    let listeners = this.listeners.get(topic);
    if (!listeners) {
      listeners = new Set();
      this.listeners.set(topic, listeners);
    }
    listeners.add(listener as (event: never) => void);
    return () => listeners.delete(listener as (event: never) => void);
  }
}
