import * as Y from 'yjs';
import type { Authenticated } from '../auth/credential.js';
import type { Principal } from '../auth/principal.js';
import type { Clock } from '../core/clock.js';
import type { EventBus, FileChange } from '../core/event-bus.js';
import type { Logger } from '../core/logger.js';
import type { FileService } from '../files/file-service.js';
import { Slots } from '../files/slots.js';
import type { WatchLease, WorkspaceWatchers } from '../files/workspace-watcher.js';
import { decide } from '../ledger/policy.js';
import type { PolicyService } from '../ledger/policy-service.js';
import { notePolicyPath, type NoteService } from '../notes/note-service.js';
import type { OperationRegistry } from '../operations/registry.js';
import type { DocRef, SyncRepository, SyncUpdateRow } from '../store/sync-repository.js';
import type { WorkspaceService } from '../workspaces/workspace-service.js';
import type { Workspace } from '../workspaces/workspace.js';
import { DocumentBridge, type DocumentSource } from './document-bridge.js';
import { FileSource } from './file-source.js';
import { NoteSource } from './note-source.js';
import { ConnectionQuota } from './connection-quota.js';
import { noSuchRoom, RoomRefusal } from './room-refusal.js';
import { parseRoomName } from './room-name.js';
import { TurnBatch } from './turn-batch.js';
import { writeAsPrincipal, type WriteAsPrincipal } from './write-as-principal.js';
import { SyncConnection, type FlowLimits, type PeerSocket } from './sync-connection.js';
import { CloseCodes, SyncRoom, type ChangeOrigin, type RoomLimits } from './sync-room.js';

export interface SyncLimits extends RoomLimits, FlowLimits {
  maxFileBytes: number;
  /** Largest note body (the notes service's own limit): a larger document is put back. */
  maxNoteBytes: number;
  writeDebounceMs: number;
  writeMaxDelayMs: number;
  /** A document with this many updates since its snapshot is compacted. */
  compactAfterUpdates: number;
  /** A room nobody is in is unloaded after this long. */
  unloadAfterMs: number;
  /** Open connections one credential may hold. */
  maxConnectionsPerCredential: number;
}

/** Keystrokes of one author this close together are one history entry once compacted. */
const HISTORY_RUN_MS = 2000;
/**
 * Documents written back at once, process-wide: two keep the thread pool busy (a write's
 * open and rename run there) while each turn of the event loop carries at most two writes'
 * work, so a burst of due documents delays the writes, not the clients' rounds.
 */
const WRITE_BACK_SLOTS = 2;

interface LoadedRoom {
  key: string;
  ref: DocRef;
  workspace: Workspace;
  room: SyncRoom;
  /** What the document mirrors (none for the state room): a file, or a note body. */
  kind: 'file' | 'note' | 'state';
  /** File and note rooms: the bridge to the source. */
  bridge?: DocumentBridge;
  /** File rooms: the file, and the watcher lease held while the room is open. */
  path?: string;
  lease?: WatchLease;
  /** Note rooms: the note. */
  noteId?: string;
  /** Sequence number of the last compaction. */
  snapshotSeq: number;
  /** The last sequence number stored: this room assigns the next (one room per document in a process). */
  lastSeq: number;
  unloadTimer?: NodeJS.Timeout;
  /** Set while the room is being unloaded: a newcomer waits for it, then loads it afresh. */
  unloading?: Promise<void>;
}

/** One open connection, for the face to feed and end. */
export interface SyncSession {
  receive(message: Uint8Array): void;
  leave(): void;
}

/**
 * Rooms of documents: who may open which (tenant-scoped, Host/Origin and token checked by
 * the face), loading them from SQLite, compaction, unloading rooms nobody is in, the
 * bridges to files and notes (following `files.changed` and `notes.changed`), and what the agent-facing operations read (awareness, history).
 */
export class SyncService {
  private readonly rooms = new Map<string, LoadedRoom>();
  private readonly loading = new Map<string, Promise<LoadedRoom>>();
  private readonly unsubscribe: Array<() => void> = [];
  private readonly quota: ConnectionQuota;
  /** Client updates of one event-loop turn, every room's, stored in one transaction. */
  private readonly batch: TurnBatch;
  /** Every bridge's writes of its source take turns here. */
  private readonly writeSlots = new Slots(WRITE_BACK_SLOTS, 'fifo');
  /** How the bridges write a human's edit: as that principal's own call through the registry. */
  private readonly writeAs: WriteAsPrincipal = (principal, operation, args) => writeAsPrincipal(this.registry(), this.logger, principal, operation, args);

  constructor(
    private readonly repo: SyncRepository,
    private readonly workspaces: WorkspaceService,
    private readonly files: FileService,
    private readonly notes: NoteService,
    private readonly policies: PolicyService,
    private readonly watchers: WorkspaceWatchers,
    events: EventBus,
    private readonly registry: () => OperationRegistry,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly limits: SyncLimits,
  ) {
    this.quota = new ConnectionQuota(limits.maxConnectionsPerCredential);
    this.batch = new TurnBatch((work) => repo.inTransaction(work));
    this.unsubscribe.push(
      events.subscribe('files.changed', (event) => this.filesChanged(event.workspaceId, event.changes, event.actionId)),
      events.subscribe('files.moved', (event) => this.filesChanged(event.workspaceId, [{ path: event.from, kind: 'deleted', directory: true }], event.actionId)),
      events.subscribe('notes.changed', (event) => this.noteChanged(event.workspaceId, event.noteId, event.actionId)),
      events.subscribe('workspace.deleted', (event) => this.workspaceDeleted(event.tenantId, event.workspaceId)),
    );
  }

  /**
   * Opens a connection to a room for an authenticated caller. Throws a RoomRefusal: the
   * same one for a missing room, another tenant's workspace and a path leading out; 4429
   * when the caller's credential already holds its share of connections.
   */
  async connect(caller: Authenticated, name: string, socket: PeerSocket): Promise<SyncSession> {
    const release = this.quota.acquire(caller.credential.key);
    if (!release) {
      throw new RoomRefusal(CloseCodes.tooManyConnections, `at most ${this.quota.limit} sync connections per credential are open at once; close one first`);
    }
    try {
      return await this.open(caller.principal, name, socket, release);
    } catch (error) {
      release();
      throw error;
    }
  }

  private async open(principal: Principal, name: string, socket: PeerSocket, release: () => void): Promise<SyncSession> {
    const parsed = parseRoomName(name);
    if (!parsed) throw noSuchRoom();
    let workspace: Workspace;
    try {
      workspace = this.workspaces.resolve(principal, parsed.workspace);
    } catch {
      throw noSuchRoom();
    }
    let loaded: LoadedRoom;
    let readOnly: string | undefined;
    if (parsed.kind === 'state') {
      loaded = await this.load(`${workspace.tenantId}/${workspace.id}/state`, () => this.loadStateRoom(workspace));
    } else if (parsed.kind === 'file') {
      const path = await FileSource.locate(this.files, workspace, parsed.path, this.limits.maxFileBytes);
      readOnly = this.readOnlyReason(principal, workspace, 'file_write', path, path);
      loaded = await this.load(`${workspace.tenantId}/${workspace.id}/file:${path}`, () => this.loadFileRoom(workspace, path));
    } else {
      // The note is looked up in the caller's tenant and workspace: another's is a missing one.
      const note = this.notes.findNote(workspace, parsed.noteId);
      if (!note) throw noSuchRoom();
      readOnly = this.readOnlyReason(principal, workspace, 'note_update', notePolicyPath(note.id), `note ${note.id}`);
      loaded = await this.load(`${workspace.tenantId}/${workspace.id}/note:${note.id}`, () => this.loadNoteRoom(workspace, note.id));
    }
    const connection = new SyncConnection(socket, principal, readOnly, this.limits);
    if (loaded.unloadTimer) clearTimeout(loaded.unloadTimer);
    loaded.unloadTimer = undefined;
    loaded.room.join(connection);
    return {
      receive: (message) => {
        if (this.rooms.get(loaded.key) === loaded) loaded.room.receive(connection, message);
      },
      leave: () => {
        release();
        loaded.room.leave(connection);
        connection.closed = true;
        if (loaded.room.connections.size === 0 && !loaded.unloading) {
          loaded.unloadTimer = setTimeout(() => void this.unload(loaded), this.limits.unloadAfterMs);
        }
      },
    };
  }

  /** The rooms of a workspace now in memory (what `workspace_state` reports). */
  openRooms(tenantId: string, workspaceId: string): Array<{ kind: 'file' | 'note' | 'state'; path?: string; noteId?: string; room: SyncRoom }> {
    const prefix = `${tenantId}/${workspaceId}/`;
    return [...this.rooms.values()]
      .filter((loaded) => loaded.key.startsWith(prefix) && !loaded.unloading)
      .map(({ kind, path, noteId, room }) => ({ kind, ...(path === undefined ? {} : { path }), ...(noteId === undefined ? {} : { noteId }), room }));
  }

  /** Writes every pending edit and unloads every room (server shutdown). */
  async close(): Promise<void> {
    for (const unsubscribe of this.unsubscribe) unsubscribe();
    await Promise.all([...this.loading.values()].map((loading) => loading.catch(() => undefined)));
    await Promise.all([...this.rooms.values()].map((loaded) => this.unload(loaded, CloseCodes.goingAway, 'the server is shutting down')));
  }

  private async load(key: string, make: () => Promise<LoadedRoom>): Promise<LoadedRoom> {
    for (;;) {
      const existing = this.rooms.get(key);
      if (existing?.unloading) {
        await existing.unloading;
        continue;
      }
      if (existing) return existing;
      let loading = this.loading.get(key);
      if (!loading) {
        loading = make().finally(() => this.loading.delete(key));
        this.loading.set(key, loading);
      }
      return await loading;
    }
  }

  private async loadStateRoom(workspace: Workspace): Promise<LoadedRoom> {
    const key = `${workspace.tenantId}/${workspace.id}/state`;
    const ref = { tenantId: workspace.tenantId, workspaceId: workspace.id, docKey: 'state' };
    const room = new SyncRoom(key, [], { persist: () => 0, failed: () => undefined }, this.limits, true);
    const loaded: LoadedRoom = { key, ref, workspace, room, kind: 'state', snapshotSeq: 0, lastSeq: 0 };
    this.rooms.set(key, loaded);
    return loaded;
  }

  private async loadFileRoom(workspace: Workspace, path: string): Promise<LoadedRoom> {
    // Watch first: a change made while the document loads is then heard, not missed.
    const lease = this.watchers.watch(workspace);
    try {
      await lease.ready;
      const source = new FileSource(this.files, workspace, this.writeAs, path, this.limits.maxFileBytes);
      return await this.loadBridgedRoom(workspace, { kind: 'file', path, lease }, `file:${path}`, source, {
        gone: 'the file was deleted',
        unsyncable: 'the file is no longer text',
      });
    } catch (error) {
      lease.release();
      throw error;
    }
  }

  private loadNoteRoom(workspace: Workspace, noteId: string): Promise<LoadedRoom> {
    const source = new NoteSource(this.notes, workspace, this.writeAs, noteId, this.limits.maxNoteBytes);
    return this.loadBridgedRoom(workspace, { kind: 'note', noteId }, `note:${noteId}`, source, {
      gone: 'the note was deleted',
      unsyncable: 'the note can no longer be synced',
    });
  }

  /**
   * A document mirroring a source, file or note alike: its stored state and updates loaded,
   * the bridge started against the source as it is now.
   */
  private async loadBridgedRoom(
    workspace: Workspace,
    what: Pick<LoadedRoom, 'kind' | 'path' | 'lease' | 'noteId'>,
    docKey: string,
    source: DocumentSource,
    lostReasons: Record<'gone' | 'unsyncable', string>,
  ): Promise<LoadedRoom> {
    const key = `${workspace.tenantId}/${workspace.id}/${docKey}`;
    const ref: DocRef = { tenantId: workspace.tenantId, workspaceId: workspace.id, docKey };
    const row = this.repo.open(ref, this.clock.now());
    const initial = [...(row.snapshot ? [row.snapshot] : []), ...this.repo.updatesAfter(ref, row.snapshot_seq).map((update) => update.data)];
    const loaded: LoadedRoom = { key, ref, workspace, room: undefined as unknown as SyncRoom, ...what, snapshotSeq: row.snapshot_seq, lastSeq: row.last_seq };
    loaded.room = new SyncRoom(
      key,
      initial,
      {
        persist: (update, origin) => this.persist(loaded, update, origin),
        beforeClientChange: (connection) => loaded.bridge?.beforeClientChange(connection),
        clientChanged: (connection, seq) => loaded.bridge?.clientChanged(connection, seq),
        defer: (room) => this.batch.add(room),
        failed: (error) => {
          this.logger.error({ err: error, room: key }, 'storing a sync update failed; the room is closed');
          void this.unload(loaded, CloseCodes.serverError, 'the document could not be stored');
        },
      },
      this.limits,
    );
    loaded.bridge = new DocumentBridge(loaded.room, ref, source, this.repo, this.logger, { ...this.limits, writeSlots: this.writeSlots }, (reason) =>
      void this.unload(loaded, reason === 'gone' ? CloseCodes.notFound : CloseCodes.unsupported, lostReasons[reason]),
    );
    const current = await source.read();
    if (current.kind !== 'text') throw noSuchRoom();
    loaded.bridge.start(current, { baseState: row.base_state, baseStamp: row.base_sha256, pendingAuthor: row.pending_author === null ? null : (JSON.parse(row.pending_author) as Principal) });
    this.rooms.set(key, loaded);
    return loaded;
  }

  private persist(loaded: LoadedRoom, update: Uint8Array, origin: ChangeOrigin): number {
    if (origin.kind === 'client') loaded.bridge?.clientStored(origin.connection);
    const author = origin.kind === 'client' ? origin.connection.author : null;
    const actionId = origin.kind === 'disk' ? (origin.actionId ?? null) : null;
    const seq = loaded.lastSeq + 1;
    this.repo.append(loaded.ref, { seq, at: this.clock.now(), author, action_id: actionId, origin: origin.kind, data: Buffer.from(update.buffer, update.byteOffset, update.byteLength) });
    loaded.lastSeq = seq;
    if (seq - loaded.snapshotSeq >= this.limits.compactAfterUpdates) this.compact(loaded, seq);
    return seq;
  }

  /**
   * The whole state as one snapshot: loading then reads it and what came after, not the
   * whole log. The log stays as history, with each run of one person's keystrokes (same
   * author and action, within HISTORY_RUN_MS) merged into one entry: history by edit, not
   * by keystroke. The merge runs after the update that triggered it is relayed.
   */
  private compact(loaded: LoadedRoom, seq: number): void {
    const snapshot = Y.encodeStateAsUpdate(loaded.room.doc);
    const previous = loaded.snapshotSeq;
    this.repo.saveSnapshot(loaded.ref, snapshot, seq);
    loaded.snapshotSeq = seq;
    loaded.room.resetSize(snapshot.length);
    setImmediate(() => {
      try {
        this.mergeKeystrokes(loaded.ref, previous, seq);
      } catch (error) {
        this.logger.warn({ err: error, room: loaded.key }, 'merging sync history runs failed; the history keeps every update');
      }
    });
  }

  private mergeKeystrokes(ref: DocRef, afterSeq: number, upToSeq: number): void {
    let run: SyncUpdateRow[] = [];
    const close = () => {
      if (run.length > 1) this.repo.mergeRun(ref, run[0]!.seq, run.at(-1)!.seq, Y.mergeUpdates(run.map((row) => row.data)));
      run = [];
    };
    for (const row of this.repo.updatesBetween(ref, afterSeq, upToSeq)) {
      const head = run[0];
      if (head && (row.author !== head.author || row.action_id !== head.action_id || row.origin !== 'client' || row.at - head.at > HISTORY_RUN_MS)) close();
      if (row.origin === 'client') run.push(row);
    }
    close();
  }

  private async unload(loaded: LoadedRoom, code: number = CloseCodes.goingAway, reason = 'the room was closed'): Promise<void> {
    if (loaded.unloading) return loaded.unloading;
    if (loaded.unloadTimer) clearTimeout(loaded.unloadTimer);
    loaded.unloading = (async () => {
      try {
        if (code === CloseCodes.goingAway || code === CloseCodes.serverError) await loaded.bridge?.settle();
      } catch (error) {
        this.logger.error({ err: error, room: loaded.key }, 'writing a document before unloading it failed');
      }
      loaded.bridge?.close();
      loaded.room.close(code, reason);
      loaded.lease?.release();
      this.rooms.delete(loaded.key);
    })();
    return loaded.unloading;
  }

  /** The open file rooms a change reaches: its path, or anything below a deleted directory. One pass over the rooms, however many changes (a watcher's batch names hundreds). */
  private filesChanged(workspaceId: string, changes: FileChange[], actionId: string | undefined): void {
    const paths = new Set(changes.map((change) => change.path));
    const deletedDirectories = changes.filter((change) => change.directory === true && change.kind === 'deleted').map((change) => `${change.path}/`);
    for (const loaded of this.rooms.values()) {
      if (loaded.workspace.id !== workspaceId || loaded.kind !== 'file' || loaded.unloading) continue;
      const path = loaded.path!;
      if (paths.has(path) || deletedDirectories.some((directory) => path.startsWith(directory))) loaded.bridge!.sourceChanged(actionId);
    }
  }

  /** A note changed or went: its open room follows (the bridge reads it again; a deleted one closes the room). */
  private noteChanged(workspaceId: string, noteId: string, actionId: string | undefined): void {
    for (const loaded of this.rooms.values()) {
      if (loaded.workspace.id === workspaceId && loaded.noteId === noteId && !loaded.unloading) loaded.bridge!.sourceChanged(actionId);
    }
  }

  private workspaceDeleted(tenantId: string, workspaceId: string): void {
    for (const loaded of [...this.rooms.values()]) {
      if (loaded.workspace.id === workspaceId) void this.unload(loaded, CloseCodes.notFound, 'the workspace was deleted');
    }
    this.repo.forgetWorkspace(tenantId, workspaceId);
  }

  /** Whether the principal may write this document, by the workspace's policy: a denied one gets a read-only connection. */
  private readOnlyReason(principal: Principal, workspace: Workspace, operation: 'file_write' | 'note_update', policyPath: string, label: string): string | undefined {
    const policy = this.policies.get(principal.tenantId, workspace.id);
    const verdict = decide(policy, { operation, effect: 'write', paths: [policyPath] });
    return verdict.decision === 'deny' ? `read-only: the policy of workspace ${workspace.name} denies you ${operation} on ${label} (${verdict.because}); your edits are not kept` : undefined;
  }
}
