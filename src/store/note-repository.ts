import { CodeBuddyError } from '../core/errors.js';
import type { Db } from './database.js';

export interface NoteRow {
  tenant_id: string;
  workspace_id: string;
  id: string;
  title: string;
  body: string;
  tags_json: string;
  author: string;
  created_at: number;
  updated_at: number;
  version: number;
}

export interface NoteHit {
  id: string;
  title: string;
  tags_json: string;
  version: number;
  snippet: string;
}

/** What `note_list` filters by: a tag, and/or what the notes link to (a note id or a path). */
export interface NoteFilter {
  tag?: string;
  linkedTo?: string;
}

// Title ten times the body: a word in the title says more about a note than one in its text.
const RANK = 'bm25(notes_fts, 10.0, 1.0)';
/** Rowids per workspace: slot * 2^24 + n stays below 2^53, a JavaScript number, for 2^29 slots. */
const SLOT_SIZE = 2 ** 24;

/** Notes and their tags; every statement takes the tenant and workspace first. */
export class NoteRepository {
  private readonly insertStmt;
  private readonly claimSlotStmt;
  private readonly slotStmt;
  private readonly lastRowidStmt;
  private readonly dropSlotStmt;
  private readonly findStmt;
  private readonly updateStmt;
  private readonly deleteStmt;
  private readonly deleteTagsStmt;
  private readonly insertTagStmt;
  private readonly rankStmt;
  private readonly hitStmt;
  private readonly snippetStmt;
  private readonly deleteWorkspaceStmt;
  private readonly deleteWorkspaceTagsStmt;
  private readonly listStmts = new Map<string, ReturnType<Db['prepare']>>();

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO notes (rowid, tenant_id, workspace_id, id, title, body, tags_json, author, created_at, updated_at, version)
       VALUES (@rowid, @tenant_id, @workspace_id, @id, @title, @body, @tags_json, @author, @created_at, @updated_at, @version)`,
    );
    this.claimSlotStmt = db.prepare('INSERT OR IGNORE INTO note_scopes (tenant_id, workspace_id) VALUES (?, ?)');
    this.slotStmt = db.prepare('SELECT slot FROM note_scopes WHERE tenant_id = ? AND workspace_id = ?').pluck();
    this.lastRowidStmt = db.prepare('SELECT max(rowid) FROM notes WHERE rowid >= ? AND rowid < ?').pluck();
    this.dropSlotStmt = db.prepare('DELETE FROM note_scopes WHERE tenant_id = ? AND workspace_id = ?');
    this.findStmt = db.prepare('SELECT * FROM notes WHERE tenant_id = ? AND workspace_id = ? AND id = ?');
    // Compare-and-set on the version the caller read: a lost update is refused, never written.
    this.updateStmt = db.prepare(
      `UPDATE notes SET title = @title, body = @body, tags_json = @tags_json, updated_at = @updated_at, version = version + 1
       WHERE tenant_id = @tenant_id AND workspace_id = @workspace_id AND id = @id AND version = @version`,
    );
    this.deleteStmt = db.prepare('DELETE FROM notes WHERE tenant_id = ? AND workspace_id = ? AND id = ?');
    this.deleteTagsStmt = db.prepare('DELETE FROM note_tags WHERE tenant_id = ? AND workspace_id = ? AND note_id = ?');
    this.insertTagStmt = db.prepare('INSERT OR IGNORE INTO note_tags (tenant_id, workspace_id, note_id, tag) VALUES (?, ?, ?, ?)');
    // Ranked first, on the index alone, within the workspace's rowid range; the note rows and
    // snippets only for the page. The tenant and workspace check on each row is what
    // guarantees the range was theirs.
    this.rankStmt = db.prepare(`SELECT rowid FROM notes_fts WHERE notes_fts MATCH ? AND rowid >= ? AND rowid < ? ORDER BY ${RANK}, rowid LIMIT ? OFFSET ?`).pluck();
    this.hitStmt = db.prepare('SELECT id, title, tags_json, version FROM notes WHERE rowid = ? AND tenant_id = ? AND workspace_id = ?');
    this.snippetStmt = db.prepare("SELECT snippet(notes_fts, 1, '**', '**', '…', 16) FROM notes_fts WHERE notes_fts MATCH ? AND rowid = ?").pluck();
    this.deleteWorkspaceStmt = db.prepare('DELETE FROM notes WHERE tenant_id = ? AND workspace_id = ?');
    this.deleteWorkspaceTagsStmt = db.prepare('DELETE FROM note_tags WHERE tenant_id = ? AND workspace_id = ?');
  }

  insert(row: NoteRow, tags: readonly string[]): void {
    this.claimSlotStmt.run(row.tenant_id, row.workspace_id);
    const [low, high] = this.range(row.tenant_id, row.workspace_id)!;
    const last = this.lastRowidStmt.get(low, high) as number | null;
    const rowid = last === null ? low : last + 1;
    if (rowid >= high) throw new CodeBuddyError('E_TOO_LARGE', `this workspace holds the most notes it can (${SLOT_SIZE})`);
    this.insertStmt.run({ ...row, rowid });
    this.setTags(row.tenant_id, row.workspace_id, row.id, tags);
  }

  find(tenantId: string, workspaceId: string, id: string): NoteRow | undefined {
    return this.findStmt.get(tenantId, workspaceId, id) as NoteRow | undefined;
  }

  /** False when the note is gone or no longer at `version`. */
  update(row: Pick<NoteRow, 'tenant_id' | 'workspace_id' | 'id' | 'title' | 'body' | 'tags_json' | 'updated_at' | 'version'>, tags: readonly string[]): boolean {
    if (this.updateStmt.run(row).changes === 0) return false;
    this.setTags(row.tenant_id, row.workspace_id, row.id, tags);
    return true;
  }

  delete(tenantId: string, workspaceId: string, id: string): boolean {
    this.deleteTagsStmt.run(tenantId, workspaceId, id);
    return this.deleteStmt.run(tenantId, workspaceId, id).changes > 0;
  }

  private setTags(tenantId: string, workspaceId: string, id: string, tags: readonly string[]): void {
    this.deleteTagsStmt.run(tenantId, workspaceId, id);
    for (const tag of tags) this.insertTagStmt.run(tenantId, workspaceId, id, tag);
  }

  /** Newest first, keyset-paged by id (ids are time-ordered). */
  list(tenantId: string, workspaceId: string, filter: NoteFilter, beforeId: string, limit: number): NoteRow[] {
    const key = `${filter.tag !== undefined}|${filter.linkedTo !== undefined}`;
    let statement = this.listStmts.get(key);
    if (!statement) {
      // The filters name their notes through their own indexes (a note linking twice to the same target is listed once).
      const filters = [
        filter.tag !== undefined ? 'AND n.id IN (SELECT note_id FROM note_tags INDEXED BY note_tags_by_tag WHERE tenant_id = @tenant_id AND workspace_id = @workspace_id AND tag = @tag)' : '',
        filter.linkedTo !== undefined
          ? 'AND n.id IN (SELECT from_note FROM note_links INDEXED BY note_links_by_target WHERE tenant_id = @tenant_id AND workspace_id = @workspace_id AND target_ref = @linked_to)'
          : '',
      ].join(' ');
      statement = this.db.prepare(`SELECT n.* FROM notes n WHERE n.tenant_id = @tenant_id AND n.workspace_id = @workspace_id AND n.id < @before ${filters} ORDER BY n.id DESC LIMIT @limit`);
      this.listStmts.set(key, statement);
    }
    return statement.all({
      tenant_id: tenantId,
      workspace_id: workspaceId,
      before: beforeId,
      limit,
      ...(filter.tag !== undefined ? { tag: filter.tag } : {}),
      ...(filter.linkedTo !== undefined ? { linked_to: filter.linkedTo } : {}),
    }) as NoteRow[];
  }

  /** The workspace's rowid range [low, high), once it has had a note. */
  private range(tenantId: string, workspaceId: string): [number, number] | undefined {
    const slot = this.slotStmt.get(tenantId, workspaceId) as number | undefined;
    return slot === undefined ? undefined : [slot * SLOT_SIZE, (slot + 1) * SLOT_SIZE];
  }

  /** Best first; `match` is a translated query (search-query.ts), never user text. */
  search(tenantId: string, workspaceId: string, match: string, offset: number, limit: number): NoteHit[] {
    const range = this.range(tenantId, workspaceId);
    if (!range) return [];
    const hits: NoteHit[] = [];
    for (const rowid of this.rankStmt.all(match, BigInt(range[0]), BigInt(range[1]), limit, offset) as number[]) {
      const row = this.hitStmt.get(rowid, tenantId, workspaceId) as Omit<NoteHit, 'snippet'> | undefined;
      // A BigInt, not a number: FTS5 here (SQLite 3.53) ignores `rowid = ?` bound to a
      // JavaScript number (a REAL) next to MATCH, and would answer the first match's snippet.
      if (row) hits.push({ ...row, snippet: this.snippetStmt.get(match, BigInt(rowid)) as string });
    }
    return hits;
  }

  deleteWorkspace(tenantId: string, workspaceId: string): number {
    this.deleteWorkspaceTagsStmt.run(tenantId, workspaceId);
    this.dropSlotStmt.run(tenantId, workspaceId);
    return this.deleteWorkspaceStmt.run(tenantId, workspaceId).changes;
  }
}
