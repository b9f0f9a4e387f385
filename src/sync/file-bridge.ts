import * as Y from 'yjs';
import type { Principal } from '../auth/principal.js';
import { toCodeBuddyError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { DocRef, SyncRepository } from '../store/sync-repository.js';
import type { SyncConnection } from './sync-connection.js';
import type { ChangeOrigin, SyncRoom } from './sync-room.js';
import { applyTextDiff } from './text-diff.js';

/** The file as it is on disk now. */
export interface DiskFile {
  exists: boolean;
  /** Undefined for binary content. */
  text?: string;
  sha256: string | null;
}

/** How the bridge writes a human's edit: as an action of that principal (file_write through the registry). */
export type WriteAsAction = (
  principal: Principal,
  content: string,
  expectedSha256: string,
) => Promise<{ actionId: string; held: false; sha256: string } | { actionId: string; held: true }>;

export interface BridgeOptions {
  /** Quiet time after a human's last keystroke before it is written to disk. */
  writeDebounceMs: number;
  /** Longest a human's edit waits to be written while they keep typing. */
  writeMaxDelayMs: number;
  /** Largest file written: a document larger is put back to the file and its author told. */
  maxFileBytes: number;
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

/** The document when it last equalled the file on disk. */
interface Base {
  text: string;
  sha256: string;
  /** The document's whole state then: the common ancestor of three-way merges. */
  state: Uint8Array;
}

/**
 * Keeps one file's document and the file on disk equal, both ways.
 *
 * Disk to document: when the file changes (a file tool, a command, an editor — heard on
 * the bus), the change since the base (the last content both agreed on) is made as a
 * minimal diff in a fork of the base state and merged into the document as a CRDT update,
 * tagged with the action that made it. Because it is a merge, not an overwrite, a human's
 * keystrokes not yet written survive an agent's concurrent write, and both converge.
 *
 * Document to disk: a human's edits are written after `writeDebounceMs` of quiet (or
 * `writeMaxDelayMs` after the first, for someone who never pauses), as a
 * `file_write` of that principal through the registry (policy, proposals and the audit
 * trail apply exactly as to any write), with `expected_sha256` of the base, so a write
 * never overwrites a disk change the bridge has not merged yet (it merges, then writes
 * again). When another person edits while one's edits are pending, the pending ones are
 * written first, so every write is attributed to the one who typed it.
 *
 * The rule when a write does not happen — the policy denies it, holds it for approval, or
 * the file system refuses it (too large, disk full): the document is put back to the file
 * on disk, for everyone in the room, and the author's clients are told why (a held write
 * names its proposal; once approved, the file changes on disk and the document follows).
 * A document never silently differs from its file.
 *
 * All steps run one at a time per file (a promise chain), so the base is never read
 * half-updated.
 */
export class FileBridge {
  private base!: Base;
  private dirty: Dirty | undefined;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly room: SyncRoom,
    private readonly ref: DocRef,
    readonly path: string,
    private readonly readDisk: () => Promise<DiskFile>,
    private readonly writeAsAction: WriteAsAction,
    private readonly repo: SyncRepository,
    private readonly logger: Logger,
    private readonly options: BridgeOptions,
    /** The file went away or stopped being text: the service closes the room. */
    private readonly lost: (reason: 'deleted' | 'binary') => void,
  ) {}

  /**
   * At load: brings the stored document and the file together. A file changed while nobody
   * had it open is merged in; edits stored but not written before a restart are written now.
   */
  start(disk: DiskFile, stored: { baseState: Uint8Array | null; baseSha256: string | null; pendingAuthor: Principal | null }): void {
    const text = disk.text!;
    if (stored.baseState === null || stored.baseSha256 === null) {
      // A document seen for the first time (or never written): the file is the truth.
      this.room.change({ kind: 'disk' }, (target) => applyTextDiff(target, this.room.content, text));
      this.setBase(text, disk.sha256!, Y.encodeStateAsUpdate(this.room.doc));
      return;
    }
    const baseDoc = new Y.Doc();
    Y.applyUpdate(baseDoc, stored.baseState);
    this.base = { text: baseDoc.getText('content').toString(), sha256: stored.baseSha256, state: stored.baseState };
    baseDoc.destroy();
    if (disk.sha256 !== this.base.sha256) this.mergeFromDisk(text, disk.sha256!, undefined);
    if (this.room.content !== this.base.text) {
      // Edits stored before a restart but never written: written now, by whoever made them.
      if (stored.pendingAuthor) this.enqueueWrite({ principal: stored.pendingAuthor, afterSeq: 0, upToSeq: 0, since: performance.now() });
      else this.revert('the document differed from the file with no author on record');
    }
  }

  /** Called before a client's update is applied: another author's pending edits are written first. */
  beforeClientChange(connection: SyncConnection): void {
    if (this.dirty && authorOf(this.dirty.principal) !== connection.author) this.flushNow();
  }

  /** A client's update was stored: schedule its write. */
  clientChanged(connection: SyncConnection, seq: number): void {
    if (this.closed) return;
    if (!this.dirty) {
      this.dirty = { principal: connection.principal, afterSeq: seq - 1, upToSeq: seq, since: performance.now() };
      this.repo.markPending(this.ref, connection.principal);
    } else {
      this.dirty.upToSeq = seq;
    }
    if (this.timer) clearTimeout(this.timer);
    const untilMaxDelay = this.dirty.since + this.options.writeMaxDelayMs - performance.now();
    this.timer = setTimeout(() => this.flushNow(), Math.max(0, Math.min(this.options.writeDebounceMs, untilMaxDelay)));
  }

  /** The file may have changed on disk (an event on the bus). */
  diskChanged(actionId: string | undefined): void {
    this.run(async () => {
      const disk = await this.readDisk();
      if (!disk.exists) return this.lost('deleted');
      if (disk.text === undefined) return this.lost('binary');
      // Our own write coming back, or nothing new.
      if (disk.sha256 === this.base.sha256) return;
      this.mergeFromDisk(disk.text, disk.sha256!, actionId);
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
    if (Buffer.byteLength(text) > this.options.maxFileBytes) {
      return this.refused(author, `the document is larger than ${this.options.maxFileBytes} bytes, the largest file written; it was put back to the file on disk`);
    }
    try {
      const written = await this.writeAsAction(author, text, this.base.sha256);
      if (written.held) {
        return this.refused(author, `your edit to ${this.path} is held for approval as action ${written.actionId}; the document shows the file until it is approved`);
      }
      this.setBase(text, written.sha256, state);
      if (dirty.upToSeq > 0) this.repo.attribute(this.ref, authorOf(author), dirty.afterSeq, dirty.upToSeq, written.actionId);
    } catch (error) {
      const failure = toCodeBuddyError(error);
      if (failure.code === 'E_CONFLICT' && attempt < 3) {
        // The file changed since the base and the bus has not told us yet: merge it, then write the merge.
        const disk = await this.readDisk();
        if (!disk.exists) return this.lost('deleted');
        if (disk.text === undefined) return this.lost('binary');
        this.mergeFromDisk(disk.text, disk.sha256!, undefined);
        if (this.room.content !== this.base.text) this.enqueueWrite(dirty, attempt + 1);
        return;
      }
      if (failure.code === 'E_INTERNAL') this.logger.error({ err: error, path: this.path }, 'writing a synced document failed');
      this.refused(author, `your edit to ${this.path} was not written (${failure.code}: ${failure.message}); the document was put back to the file on disk`);
    }
  }

  /** The three-way merge: base → disk, made in a fork of the base state, merged into the document. */
  private mergeFromDisk(text: string, sha256: string, actionId: string | undefined): void {
    const fork = new Y.Doc();
    try {
      Y.applyUpdate(fork, this.base.state);
      const forkText = fork.getText('content');
      const before = Y.encodeStateVector(fork);
      fork.transact(() => applyTextDiff(forkText, this.base.text, text));
      const origin: ChangeOrigin = actionId === undefined ? { kind: 'disk' } : { kind: 'disk', actionId };
      this.room.applyUpdate(Y.encodeStateAsUpdate(fork, before), origin);
      this.setBase(text, sha256, Y.encodeStateAsUpdate(fork));
    } finally {
      fork.destroy();
    }
  }

  /** Puts the document back to the file on disk and tells the author why. */
  private refused(author: Principal, reason: string): void {
    this.revert(reason);
    for (const connection of this.room.connections) if (connection.author === authorOf(author)) this.room.deny(connection, reason, true);
  }

  private revert(reason: string): void {
    this.logger.info({ path: this.path, reason }, 'a synced document was put back to its file');
    this.room.change({ kind: 'revert' }, (target) => applyTextDiff(target, this.room.content, this.base.text));
    this.setBase(this.base.text, this.base.sha256, Y.encodeStateAsUpdate(this.room.doc));
  }

  private setBase(text: string, sha256: string, state: Uint8Array): void {
    this.base = { text, sha256, state };
    this.repo.saveBase(this.ref, state, sha256);
    // Edits made after this state are still pending: they stay on record as such.
    if (this.dirty) this.repo.markPending(this.ref, this.dirty.principal);
  }

  private run(step: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      // Once closed (after `settle`), late disk events have no document to change.
      if (this.closed) return;
      try {
        await step();
      } catch (error) {
        this.logger.error({ err: error, path: this.path }, 'the file bridge failed a step');
      }
    });
  }
}
