import type { Db } from './database.js';

export interface NoteArtifactRow {
  tenant_id: string;
  workspace_id: string;
  id: string;
  note_id: string;
  kind: 'blob' | 'file';
  name: string;
  media_type: string;
  sha256: string;
  size: number;
  /** The workspace file, for `file` artifacts. */
  path: string | null;
  created_by: string;
  created_at: number;
}

/** Artifact rows; tenant and workspace first in every statement but the blob reference check. */
export class NoteArtifactRepository {
  private readonly insertStmt;
  private readonly findStmt;
  private readonly ofNoteStmt;
  private readonly blobsOfNoteStmt;
  private readonly blobsOfWorkspaceStmt;
  private readonly deleteOfNoteStmt;
  private readonly deleteWorkspaceStmt;
  private readonly blobReferencedStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO note_artifacts (tenant_id, workspace_id, id, note_id, kind, name, media_type, sha256, size, path, created_by, created_at)
       VALUES (@tenant_id, @workspace_id, @id, @note_id, @kind, @name, @media_type, @sha256, @size, @path, @created_by, @created_at)`,
    );
    this.findStmt = db.prepare('SELECT * FROM note_artifacts WHERE tenant_id = ? AND workspace_id = ? AND id = ?');
    this.ofNoteStmt = db.prepare('SELECT * FROM note_artifacts WHERE tenant_id = ? AND workspace_id = ? AND note_id = ? ORDER BY id');
    this.blobsOfNoteStmt = db.prepare("SELECT DISTINCT sha256 FROM note_artifacts WHERE tenant_id = ? AND workspace_id = ? AND note_id = ? AND kind = 'blob'").pluck();
    this.blobsOfWorkspaceStmt = db.prepare("SELECT DISTINCT sha256 FROM note_artifacts WHERE tenant_id = ? AND workspace_id = ? AND kind = 'blob'").pluck();
    this.deleteOfNoteStmt = db.prepare('DELETE FROM note_artifacts WHERE tenant_id = ? AND workspace_id = ? AND note_id = ?');
    this.deleteWorkspaceStmt = db.prepare('DELETE FROM note_artifacts WHERE tenant_id = ? AND workspace_id = ?');
    // Across tenants on purpose: equal content is one file, kept while any row names it.
    this.blobReferencedStmt = db.prepare("SELECT 1 FROM note_artifacts WHERE sha256 = ? AND kind = 'blob' LIMIT 1").pluck();
  }

  insert(row: NoteArtifactRow): void {
    this.insertStmt.run(row);
  }

  find(tenantId: string, workspaceId: string, id: string): NoteArtifactRow | undefined {
    return this.findStmt.get(tenantId, workspaceId, id) as NoteArtifactRow | undefined;
  }

  ofNote(tenantId: string, workspaceId: string, noteId: string): NoteArtifactRow[] {
    return this.ofNoteStmt.all(tenantId, workspaceId, noteId) as NoteArtifactRow[];
  }

  /** Deletes a note's artifact rows; returns the blobs they named, for the caller to collect. */
  deleteOfNote(tenantId: string, workspaceId: string, noteId: string): string[] {
    const blobs = this.blobsOfNoteStmt.all(tenantId, workspaceId, noteId) as string[];
    this.deleteOfNoteStmt.run(tenantId, workspaceId, noteId);
    return blobs;
  }

  deleteWorkspace(tenantId: string, workspaceId: string): string[] {
    const blobs = this.blobsOfWorkspaceStmt.all(tenantId, workspaceId) as string[];
    this.deleteWorkspaceStmt.run(tenantId, workspaceId);
    return blobs;
  }

  blobReferenced(sha256: string): boolean {
    return this.blobReferencedStmt.get(sha256) !== undefined;
  }
}
