import type { Db } from './database.js';

export type LinkTargetKind = 'note' | 'file' | 'symbol';

export interface NoteLinkRow {
  tenant_id: string;
  workspace_id: string;
  id: string;
  from_note: string;
  type: string;
  target_kind: LinkTargetKind;
  /** The note id, or the workspace-relative path of the file (or of the symbol's file). */
  target_ref: string;
  /** The symbol's name path ('' for notes and files). */
  target_symbol: string;
  created_by: string;
  created_at: number;
}

/** Links between notes and to files and symbols; tenant and workspace first in every statement. */
export class NoteLinkRepository {
  private readonly insertStmt;
  private readonly findStmt;
  private readonly findSameStmt;
  private readonly deleteStmt;
  private readonly fromStmt;
  private readonly toNoteStmt;
  private readonly deleteFromNoteStmt;
  private readonly deleteToNoteStmt;
  private readonly moveStmts;
  private readonly deleteWorkspaceStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO note_links (tenant_id, workspace_id, id, from_note, type, target_kind, target_ref, target_symbol, created_by, created_at)
       VALUES (@tenant_id, @workspace_id, @id, @from_note, @type, @target_kind, @target_ref, @target_symbol, @created_by, @created_at)`,
    );
    this.findStmt = db.prepare('SELECT * FROM note_links WHERE tenant_id = ? AND workspace_id = ? AND id = ?');
    this.findSameStmt = db.prepare(
      `SELECT * FROM note_links WHERE tenant_id = @tenant_id AND workspace_id = @workspace_id AND from_note = @from_note AND type = @type
         AND target_kind = @target_kind AND target_ref = @target_ref AND target_symbol = @target_symbol`,
    );
    this.deleteStmt = db.prepare('DELETE FROM note_links WHERE tenant_id = ? AND workspace_id = ? AND id = ?');
    this.fromStmt = db.prepare('SELECT * FROM note_links WHERE tenant_id = ? AND workspace_id = ? AND from_note = ? ORDER BY id');
    // INDEXED BY where the planner, without statistics, would scan the workspace's links by their primary key.
    this.toNoteStmt = db.prepare("SELECT * FROM note_links INDEXED BY note_links_by_target WHERE tenant_id = ? AND workspace_id = ? AND target_ref = ? AND target_kind = 'note' ORDER BY id");
    // Two statements, not an OR: each has its index.
    this.deleteFromNoteStmt = db.prepare('DELETE FROM note_links WHERE tenant_id = ? AND workspace_id = ? AND from_note = ?');
    this.deleteToNoteStmt = db.prepare("DELETE FROM note_links INDEXED BY note_links_by_target WHERE tenant_id = ? AND workspace_id = ? AND target_ref = ? AND target_kind = 'note'");
    // The path itself, then everything below it ('/' is followed by '0' in code point order).
    // OR REPLACE: a link that lands on one the note already had (a file moved over another)
    // merges into it.
    const moved = (where: string) =>
      db.prepare(
        `UPDATE OR REPLACE note_links INDEXED BY note_links_by_target SET target_ref = @to || substr(target_ref, length(@from) + 1)
         WHERE tenant_id = @tenant_id AND workspace_id = @workspace_id AND ${where} AND target_kind IN ('file', 'symbol')`,
      );
    this.moveStmts = [moved('target_ref = @from'), moved("target_ref >= @from || '/' AND target_ref < @from || '0'")];
    this.deleteWorkspaceStmt = db.prepare('DELETE FROM note_links WHERE tenant_id = ? AND workspace_id = ?');
  }

  insert(row: NoteLinkRow): void {
    this.insertStmt.run(row);
  }

  find(tenantId: string, workspaceId: string, id: string): NoteLinkRow | undefined {
    return this.findStmt.get(tenantId, workspaceId, id) as NoteLinkRow | undefined;
  }

  /** The link with the same ends and type, if the note has it already. */
  findSame(row: Pick<NoteLinkRow, 'tenant_id' | 'workspace_id' | 'from_note' | 'type' | 'target_kind' | 'target_ref' | 'target_symbol'>): NoteLinkRow | undefined {
    return this.findSameStmt.get(row) as NoteLinkRow | undefined;
  }

  delete(tenantId: string, workspaceId: string, id: string): boolean {
    return this.deleteStmt.run(tenantId, workspaceId, id).changes > 0;
  }

  from(tenantId: string, workspaceId: string, noteId: string): NoteLinkRow[] {
    return this.fromStmt.all(tenantId, workspaceId, noteId) as NoteLinkRow[];
  }

  toNote(tenantId: string, workspaceId: string, noteId: string): NoteLinkRow[] {
    return this.toNoteStmt.all(tenantId, workspaceId, noteId) as NoteLinkRow[];
  }

  /** Every link from or to a note. */
  deleteOfNote(tenantId: string, workspaceId: string, noteId: string): number {
    return this.deleteFromNoteStmt.run(tenantId, workspaceId, noteId).changes + this.deleteToNoteStmt.run(tenantId, workspaceId, noteId).changes;
  }

  /** Links to `from` (a file, or a directory and what is below it) now name `to`. */
  move(tenantId: string, workspaceId: string, from: string, to: string): number {
    return this.moveStmts.reduce((changes, statement) => changes + statement.run({ tenant_id: tenantId, workspace_id: workspaceId, from, to }).changes, 0);
  }

  deleteWorkspace(tenantId: string, workspaceId: string): number {
    return this.deleteWorkspaceStmt.run(tenantId, workspaceId).changes;
  }
}
