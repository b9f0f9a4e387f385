import type { Db } from './database.js';

export interface NoteTaskRow {
  tenant_id: string;
  workspace_id: string;
  id: string;
  note_id: string;
  line: number;
  text: string;
  status: 'open' | 'done';
  assignee: string | null;
  due: string | null;
}

export interface TaskFilter {
  status?: 'open' | 'done';
  assignee?: string;
}

/** Task rows, derived from note bodies by the notes service; tenant and workspace first in every statement. */
export class NoteTaskRepository {
  private readonly insertStmt;
  private readonly findStmt;
  private readonly ofNoteStmt;
  private readonly deleteOfNoteStmt;
  private readonly deleteWorkspaceStmt;
  private readonly listStmts = new Map<string, ReturnType<Db['prepare']>>();

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO note_tasks (tenant_id, workspace_id, id, note_id, line, text, status, assignee, due)
       VALUES (@tenant_id, @workspace_id, @id, @note_id, @line, @text, @status, @assignee, @due)`,
    );
    this.findStmt = db.prepare('SELECT * FROM note_tasks WHERE tenant_id = ? AND workspace_id = ? AND id = ?');
    this.ofNoteStmt = db.prepare('SELECT * FROM note_tasks WHERE tenant_id = ? AND workspace_id = ? AND note_id = ? ORDER BY line');
    this.deleteOfNoteStmt = db.prepare('DELETE FROM note_tasks WHERE tenant_id = ? AND workspace_id = ? AND note_id = ?');
    this.deleteWorkspaceStmt = db.prepare('DELETE FROM note_tasks WHERE tenant_id = ? AND workspace_id = ?');
  }

  find(tenantId: string, workspaceId: string, id: string): NoteTaskRow | undefined {
    return this.findStmt.get(tenantId, workspaceId, id) as NoteTaskRow | undefined;
  }

  ofNote(tenantId: string, workspaceId: string, noteId: string): NoteTaskRow[] {
    return this.ofNoteStmt.all(tenantId, workspaceId, noteId) as NoteTaskRow[];
  }

  /** A note's tasks become exactly `rows` (the caller runs this in the note's transaction). */
  replaceOfNote(tenantId: string, workspaceId: string, noteId: string, rows: readonly NoteTaskRow[]): void {
    this.deleteOfNoteStmt.run(tenantId, workspaceId, noteId);
    for (const row of rows) this.insertStmt.run(row);
  }

  deleteOfNote(tenantId: string, workspaceId: string, noteId: string): number {
    return this.deleteOfNoteStmt.run(tenantId, workspaceId, noteId).changes;
  }

  /** In note then line order, keyset-paged after (note, line). */
  list(tenantId: string, workspaceId: string, filter: TaskFilter, after: { note: string; line: number }, limit: number): NoteTaskRow[] {
    const key = `${filter.status !== undefined}|${filter.assignee !== undefined}`;
    let statement = this.listStmts.get(key);
    if (!statement) {
      const conditions = [filter.status !== undefined ? 'AND status = @status' : '', filter.assignee !== undefined ? 'AND assignee = @assignee' : ''].join(' ');
      statement = this.db.prepare(
        `SELECT * FROM note_tasks WHERE tenant_id = @tenant_id AND workspace_id = @workspace_id ${conditions}
           AND (note_id > @note OR (note_id = @note AND line > @line)) ORDER BY note_id, line LIMIT @limit`,
      );
      this.listStmts.set(key, statement);
    }
    return statement.all({ tenant_id: tenantId, workspace_id: workspaceId, note: after.note, line: after.line, limit, ...filter }) as NoteTaskRow[];
  }

  deleteWorkspace(tenantId: string, workspaceId: string): number {
    return this.deleteWorkspaceStmt.run(tenantId, workspaceId).changes;
  }
}
