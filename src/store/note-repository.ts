import type { Db } from './database.js';

export interface NoteRow {
  tenant_id: string;
  workspace_id: string;
  id: string;
  scope: string;
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
const RANK = 'bm25(notes_fts, 0.0, 10.0, 1.0)';

/** Notes and their tags; every statement takes the tenant and workspace first. */
export class NoteRepository {
  private readonly insertStmt;
  private readonly findStmt;
  private readonly updateStmt;
  private readonly deleteStmt;
  private readonly deleteTagsStmt;
  private readonly insertTagStmt;
  private readonly searchStmt;
  private readonly deleteWorkspaceStmt;
  private readonly deleteWorkspaceTagsStmt;
  private readonly listStmts = new Map<string, ReturnType<Db['prepare']>>();

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO notes (tenant_id, workspace_id, id, scope, title, body, tags_json, author, created_at, updated_at, version)
       VALUES (@tenant_id, @workspace_id, @id, @scope, @title, @body, @tags_json, @author, @created_at, @updated_at, @version)`,
    );
    this.findStmt = db.prepare('SELECT * FROM notes WHERE tenant_id = ? AND workspace_id = ? AND id = ?');
    // Compare-and-set on the version the caller read: a lost update is refused, never written.
    this.updateStmt = db.prepare(
      `UPDATE notes SET title = @title, body = @body, tags_json = @tags_json, updated_at = @updated_at, version = version + 1
       WHERE tenant_id = @tenant_id AND workspace_id = @workspace_id AND id = @id AND version = @version`,
    );
    this.deleteStmt = db.prepare('DELETE FROM notes WHERE tenant_id = ? AND workspace_id = ? AND id = ?');
    this.deleteTagsStmt = db.prepare('DELETE FROM note_tags WHERE tenant_id = ? AND workspace_id = ? AND note_id = ?');
    this.insertTagStmt = db.prepare('INSERT OR IGNORE INTO note_tags (tenant_id, workspace_id, tag, note_id) VALUES (?, ?, ?, ?)');
    // The scope term makes FTS5 intersect with this workspace's notes in the index; the join
    // on tenant and workspace is what guarantees it.
    this.searchStmt = db.prepare(
      `SELECT n.id, n.title, n.tags_json, n.version, snippet(notes_fts, 2, '**', '**', '…', 16) AS snippet
       FROM notes_fts JOIN notes n ON n.rowid = notes_fts.rowid
       WHERE notes_fts MATCH @match AND n.tenant_id = @tenant_id AND n.workspace_id = @workspace_id
       ORDER BY ${RANK}, n.id LIMIT @limit OFFSET @offset`,
    );
    this.deleteWorkspaceStmt = db.prepare('DELETE FROM notes WHERE tenant_id = ? AND workspace_id = ?');
    this.deleteWorkspaceTagsStmt = db.prepare('DELETE FROM note_tags WHERE tenant_id = ? AND workspace_id = ?');
  }

  insert(row: NoteRow, tags: readonly string[]): void {
    this.insertStmt.run(row);
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
    for (const tag of tags) this.insertTagStmt.run(tenantId, workspaceId, tag, id);
  }

  /** Newest first, keyset-paged by id (ids are time-ordered). */
  list(tenantId: string, workspaceId: string, filter: NoteFilter, beforeId: string, limit: number): NoteRow[] {
    const key = `${filter.tag !== undefined}|${filter.linkedTo !== undefined}`;
    let statement = this.listStmts.get(key);
    if (!statement) {
      const joins = [
        filter.tag !== undefined ? 'JOIN note_tags t ON t.tenant_id = n.tenant_id AND t.workspace_id = n.workspace_id AND t.note_id = n.id AND t.tag = @tag' : '',
        // EXISTS, not a join: a note linking twice to the same target is listed once.
        filter.linkedTo !== undefined
          ? `WHERE EXISTS (SELECT 1 FROM note_links l WHERE l.tenant_id = n.tenant_id AND l.workspace_id = n.workspace_id AND l.from_note = n.id AND l.target_ref = @linked_to) AND`
          : 'WHERE',
      ].join(' ');
      statement = this.db.prepare(`SELECT n.* FROM notes n ${joins} n.tenant_id = @tenant_id AND n.workspace_id = @workspace_id AND n.id < @before ORDER BY n.id DESC LIMIT @limit`);
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

  /** Best first; `match` is a translated query (search-query.ts), never user text. */
  search(tenantId: string, workspaceId: string, match: string, offset: number, limit: number): NoteHit[] {
    return this.searchStmt.all({ tenant_id: tenantId, workspace_id: workspaceId, match, offset, limit }) as NoteHit[];
  }

  deleteWorkspace(tenantId: string, workspaceId: string): number {
    this.deleteWorkspaceTagsStmt.run(tenantId, workspaceId);
    return this.deleteWorkspaceStmt.run(tenantId, workspaceId).changes;
  }
}
