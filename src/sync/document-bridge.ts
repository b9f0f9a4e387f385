import * as Y from 'yjs';
import type { Principal } from '../auth/principal.js';
import { toCodeBuddyError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Slots } from '../files/slots.js';
import type { DocRef, SyncRepository } from '../store/sync-repository.js';
import type { SyncConnection } from './sync-connection.js';
import type { ChangeOrigin, SyncRoom } from './sync-room.js';
import { applyTextDiff } from './text-diff.js';

/**
 * What a document mirrors, as it stands now: its text and a stamp naming that version (a
 * file's sha256, a note's version), or why it can no longer be mirrored. `actionId`: the
 * action that wrote exactly this version, when the source knows it by content (a file the
 * file service wrote lately), whatever event led to the read.
 */
export type SourceText = { kind: 'text'; text: string; stamp: string; actionId?: string };
export type SourceState = SourceText | { kind: 'gone' } | { kind: 'unsyncable' };

/** A human's edit written as that principal's own action: done (with the new stamp) or held for approval. */
export type Written = { actionId: string; held: false; stamp: string } | { actionId: string; held: true };

/**
 * The owner of what a document mirrors: a file (file-source.ts), a note body (note-source.ts).
 * It reads the current version and writes a human's edit through the registry, as that
 * principal's own operation, refusing one not based on `expectedStamp` with E_CONFLICT.
 */
export interface DocumentSource {
  /** How messages name it: `src/a.ts`, `note note_12`. */
  readonly label: string;
  /** What the document is put back to, in messages: `the file on disk`, `the stored note`. */
  readonly stored: string;
  /** Largest content written: a larger document is put back and its author told. */
  readonly maxBytes: number;
  read(): Promise<SourceState>;
  write(principal: Principal, content: string, expectedStamp: string): Promise<Written>;
}

export interface BridgeOptions {
  /** Quiet time after a human's last keystroke before it is written. */
  writeDebounceMs: number;
  /** Longest a human's edit waits to be written while they keep typing. */
  writeMaxDelayMs: number;
  /**
   * Shared by every bridge of the process: how many writes of the source run at once. Debounce
   * timers of many documents fall due together (a burst after a pause); run all at once, their
   * writes would hold the event loop for tens of milliseconds and every sync client with it.
   */
  writeSlots?: Slots;
}

/** A human's edits not written yet: whose, and which stored updates they are. */
interface Dirty {
  principal: Principal;
  afterSeq: number;
  upToSeq: number;
  /** When the first of these edits arrived (performance.now()). */
  since: number;
}

export const authorOf = (principal: Principal): string => `${principal.tenantId}/${principal.userId}`;

/** The document when it last equalled its source. */
interface Base {
  text: string;
  stamp: string;
  /** The document's whole state then: the common ancestor of three-way merges. */
  state: Uint8Array;
}

/**
 * Keeps one document and what it mirrors (a file, a note body) equal, both ways.
 *
 * Source to document: when the source changes (a file tool, a command, an editor, a note
 * operation — heard on the bus), the change since the base (the last content both agreed
 * on) is made as a minimal diff in a fork of the base state and merged into the document as
 * a CRDT update, tagged with the action that made it. Because it is a merge, not an
 * overwrite, a human's keystrokes not yet written survive an agent's concurrent write, and
 * both converge.
 *
 * Document to source: a human's edits are written after `writeDebounceMs` of quiet (or
 * `writeMaxDelayMs` after the first, for someone who never pauses), as that principal's
 * own write operation through the registry (policy, proposals and the audit trail apply
 * exactly as to any write), based on the base's stamp, so a write never overwrites a change
 * the bridge has not merged yet (it merges, then writes again). When another person edits
 * while one's edits are pending, the pending ones are written first, so every write is
 * attributed to the one who typed it.
 *
 * The rule when a write does not happen — the policy denies it, holds it for approval, or
 * the source refuses it (too large, disk full): the document is put back to the stored
 * version, for everyone in the room, and the author's clients are told why (a held write
 * names its proposal; once approved, the source changes and the document follows).
 * A document never silently differs from its source.
 *
 * All steps run one at a time per document (a promise chain), so the base is never read
 * half-updated.
 */
export class DocumentBridge {
  private base!: Base;
  private dirty: Dirty | undefined;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** Whose pending edits the document row names now (`tenant/user`), so that it is written once per run, not per keystroke. */
  private pendingOnRecord: string | undefined;
  /** The action of this bridge's last write of the source: its `files.changed`/`notes.changed` event needs no read. */
  private lastWrite: string | undefined;

  constructor(
    private readonly room: SyncRoom,
    private readonly ref: DocRef,
    readonly source: DocumentSource,
    private readonly repo: SyncRepository,
    private readonly logger: Logger,
    private readonly options: BridgeOptions,
    /** The source went away or stopped being text: the service closes the room. */
    private readonly lost: (reason: 'gone' | 'unsyncable') => void,
  ) {}

  /**
   * At load: brings the stored document and its source together. A source changed while
   * nobody had it open is merged in; edits stored but not written before a restart are written now.
   */
  start(current: SourceText, stored: { baseState: Uint8Array | null; baseStamp: string | null; pendingAuthor: Principal | null }): void {
    this.pendingOnRecord = stored.pendingAuthor ? authorOf(stored.pendingAuthor) : undefined;
    if (stored.baseState === null || stored.baseStamp === null) {
      // A document seen for the first time (or never written): the source is the truth.
      this.room.change({ kind: 'disk' }, (target) => applyTextDiff(target, this.room.content, current.text));
      this.setBase(current.text, current.stamp, Y.encodeStateAsUpdate(this.room.doc));
      return;
    }
    const baseDoc = new Y.Doc();
    Y.applyUpdate(baseDoc, stored.baseState);
    this.base = { text: baseDoc.getText('content').toString(), stamp: stored.baseStamp, state: stored.baseState };
    baseDoc.destroy();
    if (current.stamp !== this.base.stamp) this.mergeFromSource(current);
    if (this.room.content !== this.base.text) {
      // Edits stored before a restart but never written: written now, by whoever made them.
      if (stored.pendingAuthor) this.enqueueWrite({ principal: stored.pendingAuthor, afterSeq: 0, upToSeq: 0, since: performance.now() });
      else this.revert(`the document differed from ${this.source.stored} with no author on record`);
    }
  }

  /** Called before a client's update is applied: another author's pending edits are written first. */
  beforeClientChange(connection: SyncConnection): void {
    if (this.dirty && authorOf(this.dirty.principal) !== connection.author) this.flushNow();
  }

  /**
   * A client's update is being stored (inside its transaction): the document row names its
   * author as the one with edits not yet written, in the same commit, so a crash right after
   * still knows whose edit to write.
   */
  clientStored(connection: SyncConnection): void {
    if (this.pendingOnRecord === connection.author) return;
    this.repo.markPending(this.ref, connection.principal);
    this.pendingOnRecord = connection.author;
  }

  /** A client's update was stored and relayed: schedule its write. */
  clientChanged(connection: SyncConnection, seq: number): void {
    if (this.closed) return;
    if (!this.dirty) {
      this.dirty = { principal: connection.principal, afterSeq: seq - 1, upToSeq: seq, since: performance.now() };
    } else {
      this.dirty.upToSeq = seq;
    }
    if (this.timer) clearTimeout(this.timer);
    const untilMaxDelay = this.dirty.since + this.options.writeMaxDelayMs - performance.now();
    this.timer = setTimeout(() => this.flushNow(), Math.max(0, Math.min(this.options.writeDebounceMs, untilMaxDelay)));
  }

  /**
   * The source may have changed (an event on the bus), by the action named when an operation
   * did it. The change is attributed by what is read: the action that wrote exactly that
   * content if the source knows one (so a watcher's anonymous event that comes before the
   * operation's own still names the operation), else the event's.
   */
  sourceChanged(actionId: string | undefined): void {
    this.run(async () => {
      // Our own write announcing itself (the step runs after the write's): nothing to read.
      if (actionId !== undefined && actionId === this.lastWrite) return;
      const current = await this.source.read();
      if (current.kind !== 'text') return this.lost(current.kind);
      // Our own write coming back, or nothing new.
      if (current.stamp === this.base.stamp) return;
      this.mergeFromSource(current.actionId === undefined && actionId !== undefined ? { ...current, actionId } : current);
    });
  }

  /** Writes what is pending now; resolves once every queued step is done. */
  async settle(): Promise<void> {
    this.flushNow();
    await this.chain;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private flushNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const dirty = this.dirty;
    this.dirty = undefined;
    if (dirty) this.enqueueWrite(dirty);
  }

  /** The content and state are taken now (before anyone else's next keystroke), written in turn. */
  private enqueueWrite(dirty: Dirty, attempt = 1): void {
    const text = this.room.content;
    const state = Y.encodeStateAsUpdate(this.room.doc);
    this.run(() => this.write(dirty, text, state, attempt));
  }

  private async write(dirty: Dirty, text: string, state: Uint8Array, attempt: number): Promise<void> {
    if (text === this.base.text) return;
    const author = dirty.principal;
    const { label, stored, maxBytes } = this.source;
    if (Buffer.byteLength(text) > maxBytes) {
      return this.refused(author, `the document is larger than ${maxBytes} bytes, the most written to ${label}; it was put back to ${stored}`);
    }
    try {
      const stamp = this.base.stamp;
      const write = () => this.source.write(author, text, stamp);
      const written = await (this.options.writeSlots ? this.options.writeSlots.run(write) : write());
      if (written.held) {
        return this.refused(author, `your edit to ${label} is held for approval as action ${written.actionId}; the document shows ${stored} until it is approved`);
      }
      this.lastWrite = written.actionId;
      this.setBase(text, written.stamp, state);
      if (dirty.upToSeq > 0) this.repo.attribute(this.ref, authorOf(author), dirty.afterSeq, dirty.upToSeq, written.actionId);
    } catch (error) {
      const failure = toCodeBuddyError(error);
      if (failure.code === 'E_CONFLICT' && attempt < 3) {
        // The source changed since the base and the bus has not told us yet: merge it, then write the merge.
        const current = await this.source.read();
        if (current.kind !== 'text') return this.lost(current.kind);
        this.mergeFromSource(current);
        if (this.room.content !== this.base.text) this.enqueueWrite(dirty, attempt + 1);
        return;
      }
      if (failure.code === 'E_INTERNAL') this.logger.error({ err: error, document: label }, 'writing a synced document failed');
      this.refused(author, `your edit to ${label} was not written (${failure.code}: ${failure.message}); the document was put back to ${stored}`);
    }
  }

  /** The three-way merge: base → source, made in a fork of the base state, merged into the document. */
  private mergeFromSource({ text, stamp, actionId }: SourceText): void {
    const fork = new Y.Doc();
    try {
      Y.applyUpdate(fork, this.base.state);
      const forkText = fork.getText('content');
      const before = Y.encodeStateVector(fork);
      fork.transact(() => applyTextDiff(forkText, this.base.text, text));
      const origin: ChangeOrigin = actionId === undefined ? { kind: 'disk' } : { kind: 'disk', actionId };
      this.room.applyUpdate(Y.encodeStateAsUpdate(fork, before), origin);
      this.setBase(text, stamp, Y.encodeStateAsUpdate(fork));
    } finally {
      fork.destroy();
    }
  }

  /** Puts the document back to its source and tells the author why. */
  private refused(author: Principal, reason: string): void {
    this.revert(reason);
    for (const connection of this.room.connections) if (connection.author === authorOf(author)) this.room.deny(connection, reason, true);
  }

  private revert(reason: string): void {
    this.logger.info({ document: this.source.label, reason }, 'a synced document was put back to its source');
    this.room.change({ kind: 'revert' }, (target) => applyTextDiff(target, this.room.content, this.base.text));
    this.setBase(this.base.text, this.base.stamp, Y.encodeStateAsUpdate(this.room.doc));
  }

  private setBase(text: string, stamp: string, state: Uint8Array): void {
    this.base = { text, stamp, state };
    this.repo.saveBase(this.ref, state, stamp);
    this.pendingOnRecord = undefined;
    // Edits made after this state are still pending: they stay on record as such.
    if (this.dirty) {
      this.repo.markPending(this.ref, this.dirty.principal);
      this.pendingOnRecord = authorOf(this.dirty.principal);
    }
  }

  private run(step: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      // Once closed (after `settle`), late source events have no document to change.
      if (this.closed) return;
      try {
        await step();
      } catch (error) {
        this.logger.error({ err: error, document: this.source.label }, 'a document bridge failed a step');
      }
    });
  }
}
