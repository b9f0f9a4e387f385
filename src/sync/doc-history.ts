import * as Y from 'yjs';
import { CodeBuddyError } from '../core/errors.js';
import type { DocRef, SyncRepository, UpdateOrigin } from '../store/sync-repository.js';

export interface HistoryEntry {
  seq: number;
  at: number;
  /** `tenant/user` of a sync client; null for a change seen on disk. */
  author: string | null;
  action_id: string | null;
  origin: UpdateOrigin;
  bytes: number;
}

/**
 * The replay of a document: its stored updates in order, each with its time, author and
 * action, and the document's content as of any of them (its updates up to there, merged
 * and applied to a fresh document: exactly what the clients had then).
 */
export class DocHistory {
  constructor(private readonly repo: SyncRepository) {}

  exists(ref: DocRef): boolean {
    return this.repo.find(ref) !== undefined;
  }

  page(ref: DocRef, afterSeq: number, limit: number): { entries: HistoryEntry[]; more: boolean } {
    const rows = this.repo.historyPage(ref, afterSeq, limit + 1);
    return { entries: rows.slice(0, limit), more: rows.length > limit };
  }

  /** The sequence number a point names: a seq as is, a time as the last change at or before it. */
  seqOf(ref: DocRef, at: number | string): number {
    if (typeof at === 'number') return at;
    const time = Date.parse(at);
    if (Number.isNaN(time)) throw new CodeBuddyError('E_INVALID_ARGUMENT', 'at: a history seq (number) or an ISO 8601 time', { field: 'at' });
    return this.repo.seqAtOrBefore(ref, time);
  }

  contentAt(ref: DocRef, seq: number): string {
    const updates = this.repo.updatesUpTo(ref, seq);
    if (updates.length === 0) return '';
    const doc = new Y.Doc();
    try {
      Y.applyUpdate(doc, Y.mergeUpdates(updates));
      return doc.getText('content').toString();
    } finally {
      doc.destroy();
    }
  }
}
