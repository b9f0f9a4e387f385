import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as authProtocol from 'y-protocols/auth';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { CodeBuddyError } from '../core/errors.js';
import type { SyncConnection } from './sync-connection.js';

// The message types of the y-websocket protocol (the stock client's own constants).
const messageSync = 0;
const messageAwareness = 1;
const messageAuth = 2;
const messageQueryAwareness = 3;

const MAX_AWARENESS_IDS = 8;

/** Where a change to a document came from. */
export type ChangeOrigin =
  | { kind: 'client'; connection: SyncConnection }
  /** A change of the source made outside sync (a file on disk, a note row), by the action named if an operation did it. */
  | { kind: 'disk'; actionId?: string }
  /** The document put back to its source (the file on disk, the stored note) after a write of it was refused or held. */
  | { kind: 'revert' };

export interface RoomHooks {
  /** Stores an update before anyone else sees it; answers its sequence number. Throws to refuse. */
  persist(update: Uint8Array, origin: ChangeOrigin): number;
  /** Before a client's update is applied (the document bridge writes another author's pending edits first). */
  beforeClientChange?(connection: SyncConnection): void;
  /** After a client's change is stored and relayed. */
  clientChanged?(connection: SyncConnection, seq: number): void;
  /** The room can no longer keep its promise (a store failure): the service unloads it. */
  failed(error: unknown): void;
  /**
   * Has the room's pending client updates stored at the end of the turn, with every other
   * room's, in one transaction (turn-batch.ts), then relayed. Without it, each is stored and relayed at once.
   */
  defer?(room: SyncRoom): void;
}

export interface RoomLimits {
  /** Largest single message a client may send. */
  maxUpdateBytes: number;
  /** Largest a document may grow (its stored state plus what arrived since). */
  maxDocumentBytes: number;
}

/** Close codes, 4xxx mirroring HTTP: the stock client does not reconnect on 4400-4499. */
export const CloseCodes = {
  unauthenticated: 4401,
  forbidden: 4403,
  notFound: 4404,
  tooLarge: 4413,
  unsupported: 4415,
  tooManyConnections: 4429,
  malformed: 4400,
  serverError: 1011,
  goingAway: 1001,
} as const;

/**
 * One document and everyone editing it, over the y-websocket protocol: sync step 1 and 2,
 * updates, awareness and awareness queries, decoded and encoded with y-protocols and lib0.
 *
 * Every change, from a client or from the server (the document bridge), is collected as Yjs
 * emits it, stored through `hooks.persist`, and only then relayed: a change another client
 * has seen is a change on disk. A connection that may not write has its updates checked
 * against the document: one that would change nothing (a reconnecting client's step 2) is
 * ignored, any other is refused and the client told so (the protocol's permission-denied
 * message); its awareness (cursors) still flows.
 */
export class SyncRoom {
  readonly doc: Y.Doc;
  readonly text: Y.Text;
  readonly awareness: awarenessProtocol.Awareness;
  readonly connections = new Set<SyncConnection>();
  /** Changes Yjs emitted, not stored yet. */
  private readonly outbox: Array<{ update: Uint8Array; origin: ChangeOrigin }> = [];
  /** Changes stored, not relayed yet (relayed once their transaction committed). */
  private readonly stored: Array<{ update: Uint8Array; origin: ChangeOrigin; seq: number }> = [];
  /** The document's stored size at load plus what arrived since: the bound on its growth. */
  private bytes: number;
  private broken = false;

  constructor(
    readonly key: string,
    initial: Uint8Array[],
    private readonly hooks: RoomHooks,
    private readonly limits: RoomLimits,
    /** Awareness only (the workspace state room): no document changes at all. */
    private readonly awarenessOnly = false,
  ) {
    this.doc = new Y.Doc();
    this.text = this.doc.getText('content');
    // Stored state is applied before anyone listens: it is not a change.
    for (const update of initial) Y.applyUpdate(this.doc, update);
    this.bytes = initial.reduce((sum, update) => sum + update.length, 0);
    this.doc.on('update', (update: Uint8Array, origin: unknown) => this.outbox.push({ update, origin: origin as ChangeOrigin }));
    this.awareness = new awarenessProtocol.Awareness(this.doc);
    // The server has no cursor of its own.
    this.awareness.setLocalState(null);
    this.awareness.on('update', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
      const changed = [...added, ...updated, ...removed];
      const connection = origin as SyncConnection | null;
      if (connection && this.connections.has(connection)) {
        for (const id of [...added, ...updated]) connection.awarenessIds.add(id);
        for (const id of removed) connection.awarenessIds.delete(id);
        // One editor has one awareness id (a few with tabs sharing a socket): a client
        // inventing thousands would grow every peer's state and every answer.
        if (connection.awarenessIds.size > MAX_AWARENESS_IDS) {
          connection.close(CloseCodes.tooLarge, `at most ${MAX_AWARENESS_IDS} awareness states per connection`);
          this.leave(connection);
          return;
        }
      }
      const message = this.message(messageAwareness, (encoder) => encoding.writeVarUint8Array(encoder, awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed)));
      for (const peer of this.connections) peer.send(message);
    });
  }

  get content(): string {
    return this.text.toString();
  }

  /** The document's stored-size measure (what compaction resets). */
  resetSize(bytes: number): void {
    this.bytes = bytes;
  }

  join(connection: SyncConnection): void {
    this.connections.add(connection);
    connection.send(this.message(messageSync, (encoder) => syncProtocol.writeSyncStep1(encoder, this.doc)));
    const states = [...this.awareness.getStates().keys()];
    if (states.length > 0) {
      connection.send(this.message(messageAwareness, (encoder) => encoding.writeVarUint8Array(encoder, awarenessProtocol.encodeAwarenessUpdate(this.awareness, states))));
    }
    if (connection.readOnly) this.deny(connection, connection.readOnly);
  }

  leave(connection: SyncConnection): void {
    if (!this.connections.delete(connection)) return;
    awarenessProtocol.removeAwarenessStates(this.awareness, [...connection.awarenessIds], null);
  }

  receive(connection: SyncConnection, message: Uint8Array): void {
    if (this.broken || connection.closed) return;
    if (message.length > this.limits.maxUpdateBytes) {
      return connection.close(CloseCodes.tooLarge, `a message is at most ${this.limits.maxUpdateBytes} bytes`);
    }
    connection.charge(message.length);
    try {
      const decoder = decoding.createDecoder(message);
      const type = decoding.readVarUint(decoder);
      if (type === messageSync) this.receiveSync(connection, decoder);
      else if (type === messageAwareness) awarenessProtocol.applyAwarenessUpdate(this.awareness, decoding.readVarUint8Array(decoder), connection);
      else if (type === messageQueryAwareness) {
        const states = [...this.awareness.getStates().keys()];
        connection.send(this.message(messageAwareness, (encoder) => encoding.writeVarUint8Array(encoder, awarenessProtocol.encodeAwarenessUpdate(this.awareness, states))));
      }
      // messageAuth from a client means nothing to a server; other types are not ours to read.
    } catch (error) {
      if (error instanceof CodeBuddyError) throw error;
      connection.close(CloseCodes.malformed, 'malformed y-websocket message');
    }
  }

  /** A change made by the server (the document bridge), stored and relayed like any other. */
  change(origin: ChangeOrigin, edit: (text: Y.Text) => void): void {
    this.doc.transact(() => edit(this.text), origin);
    this.flush();
  }

  /** Applies an update made elsewhere (a three-way merge), stored and relayed like any other. */
  applyUpdate(update: Uint8Array, origin: ChangeOrigin): void {
    Y.applyUpdate(this.doc, update, origin);
    this.flush();
  }

  close(code: number, reason: string): void {
    // Updates received this turn are kept (and seen by those still here) before the room goes.
    if (!this.broken) this.flush();
    for (const connection of [...this.connections]) connection.close(code, reason);
    this.connections.clear();
    this.awareness.destroy();
    this.doc.destroy();
  }

  private receiveSync(connection: SyncConnection, decoder: decoding.Decoder): void {
    const syncType = decoding.readVarUint(decoder);
    if (syncType === syncProtocol.messageYjsSyncStep1) {
      // The client's state vector: answer exactly what it lacks.
      connection.send(this.message(messageSync, (encoder) => syncProtocol.readSyncStep1(decoder, encoder, this.doc)));
      return;
    }
    if (syncType !== syncProtocol.messageYjsSyncStep2 && syncType !== syncProtocol.messageYjsUpdate) throw new Error('unknown sync message');
    const update = decoding.readVarUint8Array(decoder);
    const refusal = connection.readOnly ?? (this.awarenessOnly ? 'this room carries awareness only, not document changes' : undefined);
    if (refusal !== undefined) {
      if (!Y.snapshotContainsUpdate(Y.snapshot(this.doc), update)) this.deny(connection, refusal);
      return;
    }
    if (this.bytes + update.length > this.limits.maxDocumentBytes) {
      return connection.close(CloseCodes.tooLarge, `the document would exceed ${this.limits.maxDocumentBytes} bytes`);
    }
    this.bytes += update.length;
    // The bridge may write the document now (another author's pending edits): what it
    // writes must be stored first.
    if (this.outbox.some((pending) => pending.origin?.kind !== 'client' || pending.origin.connection.author !== connection.author)) this.flush();
    this.hooks.beforeClientChange?.(connection);
    Y.applyUpdate(this.doc, update, { kind: 'client', connection } satisfies ChangeOrigin);
    if (this.hooks.defer) this.hooks.defer(this);
    else this.flush();
  }

  /** Stores, then relays, every change Yjs emitted; a store failure relays nothing and ends the room. */
  private flush(): void {
    this.store();
    this.relay();
  }

  /** Stores every pending change, in order (inside the turn's transaction when batched). */
  store(): void {
    while (this.outbox.length > 0 && !this.broken) {
      const { update, origin } = this.outbox[0]!;
      let seq: number;
      try {
        seq = this.hooks.persist(update, origin);
      } catch (error) {
        return this.fail(error);
      }
      this.outbox.shift();
      this.stored.push({ update, origin, seq });
    }
  }

  /** Relays what is stored (and durable): each update encoded once for all its receivers. */
  relay(): void {
    for (const { update, origin, seq } of this.stored.splice(0)) {
      const sender = origin?.kind === 'client' ? origin.connection : undefined;
      const message = this.message(messageSync, (encoder) => syncProtocol.writeUpdate(encoder, update));
      for (const peer of this.connections) if (peer !== sender) peer.send(message);
      if (sender) this.hooks.clientChanged?.(sender, seq);
    }
  }

  /** The room can no longer promise that what it relays is stored: nothing pending is relayed, the service closes it. */
  fail(error: unknown): void {
    if (this.broken) return;
    this.broken = true;
    this.outbox.length = 0;
    this.stored.length = 0;
    this.hooks.failed(error);
  }

  /** Tells a client its change was refused (the protocol's auth message), at most once a second. */
  deny(connection: SyncConnection, reason: string, always = false): void {
    if (!connection.shouldTellDenial() && !always) return;
    connection.send(this.message(messageAuth, (encoder) => authProtocol.writePermissionDenied(encoder, reason)));
  }

  private message(type: number, write: (encoder: encoding.Encoder) => void): Uint8Array {
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, type);
    write(encoder);
    return encoding.toUint8Array(encoder);
  }
}
