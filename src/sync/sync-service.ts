import { randomUUID } from 'node:crypto';
import * as Y from 'yjs';
import type { Principal } from '../auth/principal.js';
import type { Clock } from '../core/clock.js';
import { CodeBuddyError, toCodeBuddyError } from '../core/errors.js';
import type { EventBus, FileChange } from '../core/event-bus.js';
import type { Logger } from '../core/logger.js';
import type { FileService } from '../files/file-service.js';
import type { WatchLease, WorkspaceWatchers } from '../files/workspace-watcher.js';
import { decide } from '../ledger/policy.js';
import type { PolicyService } from '../ledger/policy-service.js';
import type { OperationRegistry } from '../operations/registry.js';
import type { DocRef, SyncRepository, SyncUpdateRow } from '../store/sync-repository.js';
import type { WorkspaceService } from '../workspaces/workspace-service.js';
import type { Workspace } from '../workspaces/workspace.js';
import { FileBridge, type DiskFile } from './file-bridge.js';
import { parseRoomName } from './room-name.js';
import { SyncConnection, type FlowLimits, type PeerSocket } from './sync-connection.js';
import { CloseCodes, SyncRoom, type ChangeOrigin, type RoomLimits } from './sync-room.js';

export interface SyncLimits extends RoomLimits, FlowLimits {
  maxFileBytes: number;
  writeDebounceMs: number;
  writeMaxDelayMs: number;
  /** A document with this many updates since its snapshot is compacted. */
  compactAfterUpdates: number;
  /** A room nobody is in is unloaded after this long. */
  unloadAfterMs: number;
}

/** A refusal of a room, with the close code the face sends. */
export class RoomRefusal extends Error {
  constructor(
    readonly closeCode: number,
    reason: string,
  ) {
    super(reason);
  }
}

/** Keystrokes of one author this close together are one history entry once compacted. */
const HISTORY_RUN_MS = 2000;

/** Every refusal that could tell a caller something about what lies outside its reach reads like this. */
const NO_SUCH_ROOM = () => new RoomRefusal(CloseCodes.notFound, 'no such room');

interface LoadedRoom {
  key: string;
  ref: DocRef;
  workspace: Workspace;
  room: SyncRoom;
  /** File rooms: the bridge to the file, and the watcher lease held while the room is open. */
  bridge?: FileBridge;
  lease?: WatchLease;
  /** Sequence number of the last compaction. */
  snapshotSeq: number;
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
 * the face), loading them from SQLite, compaction, unloading rooms nobody is in, the file
 * bridges, and what the agent-facing operations read (awareness, history).
 */
export class SyncService {
  private readonly rooms = new Map<string, LoadedRoom>();
  private readonly loading = new Map<string, Promise<LoadedRoom>>();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly repo: SyncRepository,
    private readonly workspaces: WorkspaceService,
    private readonly files: FileService,
    private readonly policies: PolicyService,
    private readonly watchers: WorkspaceWatchers,
    events: EventBus,
    private readonly registry: () => OperationRegistry,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly limits: SyncLimits,
  ) {
    this.unsubscribe.push(
      events.subscribe('files.changed', (event) => this.filesChanged(event.workspaceId, event.changes, event.actionId)),
      events.subscribe('files.moved', (event) => this.filesChanged(event.workspaceId, [{ path: event.from, kind: 'deleted', directory: true }], event.actionId)),
      events.subscribe('workspace.deleted', (event) => this.workspaceDeleted(event.tenantId, event.workspaceId)),
    );
  }

  /**
   * Opens a connection to a room for an authenticated principal. Throws a RoomRefusal: the
   * same one for a missing room, another tenant's workspace and a path leading out.
   */
  async connect(principal: Principal, name: string, socket: PeerSocket): Promise<SyncSession> {
    const parsed = parseRoomName(name);
    if (!parsed) throw NO_SUCH_ROOM();
    let workspace: Workspace;
    try {
      workspace = this.workspaces.resolve(principal, parsed.workspace);
    } catch {
      throw NO_SUCH_ROOM();
    }
    if (parsed.kind === 'note') throw new RoomRefusal(CloseCodes.notFound, 'note rooms are not available on this server yet');
    let loaded: LoadedRoom;
    let readOnly: string | undefined;
    if (parsed.kind === 'state') {
      loaded = await this.load(`${workspace.tenantId}/${workspace.id}/state`, () => this.loadStateRoom(workspace));
    } else {
      const disk = await this.diskFile(workspace, parsed.path);
      readOnly = this.readOnlyReason(principal, workspace, disk.path);
      loaded = await this.load(`${workspace.tenantId}/${workspace.id}/file:${disk.path}`, () => this.loadFileRoom(workspace, disk.path));
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
        loaded.room.leave(connection);
        connection.closed = true;
        if (loaded.room.connections.size === 0 && !loaded.unloading) {
          loaded.unloadTimer = setTimeout(() => void this.unload(loaded), this.limits.unloadAfterMs);
        }
      },
    };
  }

  /** The rooms of a workspace now in memory (what `workspace_state` reports). */
  openRooms(tenantId: string, workspaceId: string): Array<{ kind: 'file' | 'state'; path?: string; room: SyncRoom }> {
    const prefix = `${tenantId}/${workspaceId}/`;
    return [...this.rooms.values()]
      .filter((loaded) => loaded.key.startsWith(prefix) && !loaded.unloading)
      .map((loaded) => (loaded.bridge ? { kind: 'file' as const, path: loaded.bridge.path, room: loaded.room } : { kind: 'state' as const, room: loaded.room }));
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
    const loaded: LoadedRoom = { key, ref, workspace, room, snapshotSeq: 0 };
    this.rooms.set(key, loaded);
    return loaded;
  }

  private async loadFileRoom(workspace: Workspace, path: string): Promise<LoadedRoom> {
    const key = `${workspace.tenantId}/${workspace.id}/file:${path}`;
    const ref: DocRef = { tenantId: workspace.tenantId, workspaceId: workspace.id, docKey: `file:${path}` };
    // Watch first: a change made while the document loads is then heard, not missed.
    const lease = this.watchers.watch(workspace);
    try {
      await lease.ready;
      const row = this.repo.open(ref, this.clock.now());
      const initial = [...(row.snapshot ? [row.snapshot] : []), ...this.repo.updatesAfter(ref, row.snapshot_seq).map((update) => update.data)];
      const loaded: LoadedRoom = { key, ref, workspace, room: undefined as unknown as SyncRoom, lease, snapshotSeq: row.snapshot_seq };
      const room = new SyncRoom(
        key,
        initial,
        {
          persist: (update, origin) => this.persist(loaded, update, origin),
          beforeClientChange: (connection) => loaded.bridge?.beforeClientChange(connection),
          clientChanged: (connection, seq) => loaded.bridge?.clientChanged(connection, seq),
          failed: (error) => {
            this.logger.error({ err: error, room: key }, 'storing a sync update failed; the room is closed');
            void this.unload(loaded, CloseCodes.serverError, 'the document could not be stored');
          },
        },
        this.limits,
      );
      loaded.room = room;
      const bridge = new FileBridge(
        room,
        ref,
        path,
        () => this.readDisk(workspace, path),
        (principal, content, expectedSha256) => this.writeAsAction(principal, workspace, path, content, expectedSha256),
        this.repo,
        this.logger,
        this.limits,
        (reason) => void this.unload(loaded, reason === 'deleted' ? CloseCodes.notFound : CloseCodes.unsupported, reason === 'deleted' ? 'the file was deleted' : 'the file is no longer text'),
      );
      loaded.bridge = bridge;
      const disk = await this.readDisk(workspace, path);
      if (!disk.exists || disk.text === undefined) throw NO_SUCH_ROOM();
      bridge.start(disk, { baseState: row.base_state, baseSha256: row.base_sha256, pendingAuthor: row.pending_author === null ? null : (JSON.parse(row.pending_author) as Principal) });
      this.rooms.set(key, loaded);
      return loaded;
    } catch (error) {
      lease.release();
      throw error;
    }
  }

  private persist(loaded: LoadedRoom, update: Uint8Array, origin: ChangeOrigin): number {
    const author = origin.kind === 'client' ? origin.connection.author : null;
    const actionId = origin.kind === 'disk' ? (origin.actionId ?? null) : null;
    const seq = this.repo.append(loaded.ref, { at: this.clock.now(), author, action_id: actionId, origin: origin.kind, data: Buffer.from(update) });
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

  private filesChanged(workspaceId: string, changes: FileChange[], actionId: string | undefined): void {
    for (const loaded of this.rooms.values()) {
      if (loaded.workspace.id !== workspaceId || !loaded.bridge || loaded.unloading) continue;
      const path = loaded.bridge.path;
      if (changes.some((change) => change.path === path || (change.directory === true && change.kind === 'deleted' && path.startsWith(`${change.path}/`)))) {
        loaded.bridge.diskChanged(actionId);
      }
    }
  }

  private workspaceDeleted(tenantId: string, workspaceId: string): void {
    for (const loaded of [...this.rooms.values()]) {
      if (loaded.workspace.id === workspaceId) void this.unload(loaded, CloseCodes.notFound, 'the workspace was deleted');
    }
    this.repo.forgetWorkspace(tenantId, workspaceId);
  }

  /** Whether the principal may write this file, by the workspace's policy: a denied one gets a read-only connection. */
  private readOnlyReason(principal: Principal, workspace: Workspace, path: string): string | undefined {
    const policy = this.policies.get(principal.tenantId, workspace.id);
    const verdict = decide(policy, { operation: 'file_write', effect: 'write', paths: [path] });
    return verdict.decision === 'deny' ? `read-only: the policy of workspace ${workspace.name} denies you file_write on ${path} (${verdict.because}); your edits are not kept` : undefined;
  }

  /** The file a room names, refused exactly like a missing room when it is missing or out of reach. */
  private async diskFile(workspace: Workspace, path: string): Promise<{ path: string }> {
    let file: Awaited<ReturnType<FileService['snapshot']>>;
    try {
      file = await this.files.snapshot(workspace, path);
    } catch (error) {
      const failure = toCodeBuddyError(error);
      if (failure.code === 'E_TOO_LARGE') throw new RoomRefusal(CloseCodes.tooLarge, `the file is larger than ${this.limits.maxFileBytes} bytes: not syncable`);
      if (failure.code === 'E_NOT_A_FILE') throw new RoomRefusal(CloseCodes.unsupported, 'not a regular file: not syncable');
      throw NO_SUCH_ROOM();
    }
    if (!file.exists) throw NO_SUCH_ROOM();
    if (file.sha256 === null) throw new RoomRefusal(CloseCodes.unsupported, 'not a regular file: not syncable');
    if (file.text === undefined) throw new RoomRefusal(CloseCodes.unsupported, 'a binary file: not syncable');
    return { path: file.path };
  }

  private async readDisk(workspace: Workspace, path: string): Promise<DiskFile> {
    try {
      const file = await this.files.snapshot(workspace, path);
      return file.text === undefined ? { exists: file.exists, sha256: file.sha256 } : { exists: true, text: file.text, sha256: file.sha256 };
    } catch (error) {
      const failure = toCodeBuddyError(error);
      // Grown past the limit, turned into a directory: no longer a syncable text file.
      if (failure.code === 'E_TOO_LARGE' || failure.code === 'E_NOT_A_FILE') return { exists: true, sha256: null };
      if (failure.code === 'E_NOT_FOUND' || failure.code === 'E_NOT_A_DIRECTORY' || failure.code === 'E_PATH_OUTSIDE_WORKSPACE') return { exists: false, sha256: null };
      throw error;
    }
  }

  /** A human's edit, written as their own `file_write` through the registry: policy, proposals and audit apply. */
  private async writeAsAction(principal: Principal, workspace: Workspace, path: string, content: string, expectedSha256: string) {
    const result = await this.registry().invoke(
      'file_write',
      { workspace: workspace.id, path, content, expected_sha256: expectedSha256 },
      // `sync:` marks the calls that carry a human's edits from a sync client.
      { principal, correlationId: `sync:${randomUUID()}`, signal: new AbortController().signal, logger: this.logger },
    );
    const output = result.output as { status?: string; sha256?: string };
    if (output.status === 'pending_approval') return { actionId: result.actionId, held: true as const };
    if (typeof output.sha256 !== 'string') throw new CodeBuddyError('E_INTERNAL', 'file_write answered no sha256');
    return { actionId: result.actionId, held: false as const, sha256: output.sha256 };
  }
}
