import type { Principal } from '../auth/principal.js';
import type { Db } from './database.js';

/** Which document: a workspace's file or note body. */
export interface DocRef {
  tenantId: string;
  workspaceId: string;
  /** `file:<workspace-relative path>` or `note:<id>`. */
  docKey: string;
}

export interface SyncDocumentRow {
  snapshot: Buffer | null;
  snapshot_seq: number;
  /** The last sequence number used (the log's own maximum). */
  last_seq: number;
  base_state: Buffer | null;
  /** The stamp of the source version the base equals: a file's sha256, a note's `v<version>` (the column is named for files). */
  base_sha256: string | null;
  /** JSON of the principal whose edits are not written yet. */
  pending_author: string | null;
}

export type UpdateOrigin = 'client' | 'disk' | 'revert';

export interface SyncUpdateRow {
  seq: number;
  at: number;
  author: string | null;
  action_id: string | null;
  origin: UpdateOrigin;
  data: Buffer;
}

/** The two sync tables: documents (snapshot, merge base) and their update logs. */
export class SyncRepository {
  private readonly findStmt;
  private readonly createStmt;
  private readonly appendStmt;
  private readonly sinceStmt;
  private readonly upToStmt;
  private readonly betweenStmt;
  private readonly pageStmt;
  private readonly countStmt;
  private readonly seqAtStmt;
  private readonly snapshotStmt;
  private readonly baseStmt;
  private readonly pendingStmt;
  private readonly attributeStmt;
  private readonly deleteRangeStmt;
  private readonly replaceStmt;
  private readonly forgetDocsStmt;
  private readonly forgetUpdatesStmt;
  /** Built once: `db.transaction(fn)` makes four wrapper functions each call, on every turn with an update. */
  private readonly transaction: (work: () => void) => void;
  constructor(private readonly db: Db) {
    this.transaction = db.transaction((work: () => void) => work());
    // last_seq was bumped per update before the sequence moved into the loaded room; the log's own maximum is the truth.
    this.findStmt = db.prepare(
      'SELECT snapshot, snapshot_seq, max(last_seq, coalesce((SELECT max(seq) FROM sync_updates u WHERE u.tenant_id = d.tenant_id AND u.workspace_id = d.workspace_id AND u.doc_key = d.doc_key), 0)) AS last_seq, base_state, base_sha256, pending_author FROM sync_documents d WHERE tenant_id = ? AND workspace_id = ? AND doc_key = ?',
    );
    this.createStmt = db.prepare('INSERT OR IGNORE INTO sync_documents (tenant_id, workspace_id, doc_key, updated_at) VALUES (?, ?, ?, ?)');
    this.appendStmt = db.prepare('INSERT INTO sync_updates (tenant_id, workspace_id, doc_key, seq, at, author, action_id, origin, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    this.sinceStmt = db.prepare('SELECT seq, at, author, action_id, origin, data FROM sync_updates WHERE tenant_id = ? AND workspace_id = ? AND doc_key = ? AND seq > ? ORDER BY seq');
    this.upToStmt = db.prepare('SELECT data FROM sync_updates WHERE tenant_id = ? AND workspace_id = ? AND doc_key = ? AND seq <= ? ORDER BY seq');
    this.betweenStmt = db.prepare('SELECT seq, at, author, action_id, origin, data FROM sync_updates WHERE tenant_id = ? AND workspace_id = ? AND doc_key = ? AND seq > ? AND seq <= ? ORDER BY seq');
    this.pageStmt = db.prepare('SELECT seq, at, author, action_id, origin, length(data) AS bytes FROM sync_updates WHERE tenant_id = ? AND workspace_id = ? AND doc_key = ? AND seq > ? ORDER BY seq LIMIT ?');
    this.countStmt = db.prepare('SELECT count(*) FROM sync_updates WHERE tenant_id = ? AND workspace_id = ? AND doc_key = ? AND seq > ?').pluck();
    this.seqAtStmt = db.prepare('SELECT coalesce(max(seq), 0) FROM sync_updates WHERE tenant_id = ? AND workspace_id = ? AND doc_key = ? AND at <= ?').pluck();
    this.snapshotStmt = db.prepare('UPDATE sync_documents SET snapshot = ?, snapshot_seq = ?, last_seq = ? WHERE tenant_id = ? AND workspace_id = ? AND doc_key = ?');
    this.baseStmt = db.prepare('UPDATE sync_documents SET base_state = ?, base_sha256 = ?, pending_author = NULL WHERE tenant_id = ? AND workspace_id = ? AND doc_key = ?');
    this.pendingStmt = db.prepare('UPDATE sync_documents SET pending_author = ? WHERE tenant_id = ? AND workspace_id = ? AND doc_key = ?');
    this.attributeStmt = db.prepare(
      "UPDATE sync_updates SET action_id = ? WHERE tenant_id = ? AND workspace_id = ? AND doc_key = ? AND seq > ? AND seq <= ? AND author = ? AND origin = 'client' AND action_id IS NULL",
    );
    this.deleteRangeStmt = db.prepare('DELETE FROM sync_updates WHERE tenant_id = ? AND workspace_id = ? AND doc_key = ? AND seq >= ? AND seq < ?');
    this.replaceStmt = db.prepare('UPDATE sync_updates SET data = ? WHERE tenant_id = ? AND workspace_id = ? AND doc_key = ? AND seq = ?');
    this.forgetDocsStmt = db.prepare('DELETE FROM sync_documents WHERE tenant_id = ? AND workspace_id = ?');
    this.forgetUpdatesStmt = db.prepare('DELETE FROM sync_updates WHERE tenant_id = ? AND workspace_id = ?');
  }

  /**
   * Stores one update under the sequence number its loaded room assigned (one room per
   * document per process, so no other writer takes it: the primary key would refuse a
   * second). One INSERT, never an UPDATE of the document row: that row holds the snapshot
   * and the merge base, and rewriting them on every keystroke cost milliseconds for a large file.
   */
  append(ref: DocRef, update: SyncUpdateRow): void {
    this.appendStmt.run(ref.tenantId, ref.workspaceId, ref.docKey, update.seq, update.at, update.author, update.action_id, update.origin, update.data);
  }

  /** Runs `work` in one transaction (a turn's updates of every room: one commit). */
  inTransaction(work: () => void): void {
    this.transaction(work);
  }

  /** The document's row, made if it is new. */
  open(ref: DocRef, now: number): SyncDocumentRow {
    this.createStmt.run(ref.tenantId, ref.workspaceId, ref.docKey, now);
    return this.findStmt.get(ref.tenantId, ref.workspaceId, ref.docKey) as SyncDocumentRow;
  }

  find(ref: DocRef): SyncDocumentRow | undefined {
    return this.findStmt.get(ref.tenantId, ref.workspaceId, ref.docKey) as SyncDocumentRow | undefined;
  }

  updatesAfter(ref: DocRef, seq: number): SyncUpdateRow[] {
    return this.sinceStmt.all(ref.tenantId, ref.workspaceId, ref.docKey, seq) as SyncUpdateRow[];
  }

  /** The rows in (afterSeq, upToSeq]. */
  updatesBetween(ref: DocRef, afterSeq: number, upToSeq: number): SyncUpdateRow[] {
    return this.betweenStmt.all(ref.tenantId, ref.workspaceId, ref.docKey, afterSeq, upToSeq) as SyncUpdateRow[];
  }

  /** The raw updates up to and including `seq`, in order: the document as it was then. */
  updatesUpTo(ref: DocRef, seq: number): Buffer[] {
    return (this.upToStmt.pluck().all(ref.tenantId, ref.workspaceId, ref.docKey, seq) as Buffer[]);
  }

  /** History entries after `seq`, without their data. */
  historyPage(ref: DocRef, afterSeq: number, limit: number): Array<Omit<SyncUpdateRow, 'data'> & { bytes: number }> {
    return this.pageStmt.all(ref.tenantId, ref.workspaceId, ref.docKey, afterSeq, limit) as Array<Omit<SyncUpdateRow, 'data'> & { bytes: number }>;
  }

  countAfter(ref: DocRef, seq: number): number {
    return this.countStmt.get(ref.tenantId, ref.workspaceId, ref.docKey, seq) as number;
  }

  /** The last change made at or before `time` (0: none). */
  seqAtOrBefore(ref: DocRef, time: number): number {
    return this.seqAtStmt.get(ref.tenantId, ref.workspaceId, ref.docKey, time) as number;
  }

  saveSnapshot(ref: DocRef, snapshot: Uint8Array, seq: number): void {
    this.snapshotStmt.run(snapshot, seq, seq, ref.tenantId, ref.workspaceId, ref.docKey);
  }

  /** The document now equals its source, whose stamp (a file's sha256, a note's version) this is. */
  saveBase(ref: DocRef, state: Uint8Array, stamp: string): void {
    this.baseStmt.run(state, stamp, ref.tenantId, ref.workspaceId, ref.docKey);
  }

  markPending(ref: DocRef, author: Principal): void {
    this.pendingStmt.run(JSON.stringify(author), ref.tenantId, ref.workspaceId, ref.docKey);
  }

  /** The client updates of `author` in (afterSeq, upToSeq] were written to disk as this action. */
  attribute(ref: DocRef, author: string, afterSeq: number, upToSeq: number, actionId: string): void {
    this.attributeStmt.run(actionId, ref.tenantId, ref.workspaceId, ref.docKey, afterSeq, upToSeq, author);
  }

  /** Replaces the rows [fromSeq, toSeq] with one, kept at `toSeq`. */
  readonly mergeRun = (ref: DocRef, fromSeq: number, toSeq: number, merged: Uint8Array): void => {
    this.db.transaction(() => {
      this.deleteRangeStmt.run(ref.tenantId, ref.workspaceId, ref.docKey, fromSeq, toSeq);
      this.replaceStmt.run(merged, ref.tenantId, ref.workspaceId, ref.docKey, toSeq);
    })();
  };

  /** A deleted workspace's documents go with it. */
  forgetWorkspace(tenantId: string, workspaceId: string): void {
    this.db.transaction(() => {
      this.forgetUpdatesStmt.run(tenantId, workspaceId);
      this.forgetDocsStmt.run(tenantId, workspaceId);
    })();
  }
}
