import { basename } from 'node:path';
import type { Clock } from '../core/clock.js';
import { base64ByteLength, decodeBase64 } from '../core/base64.js';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { CodeBuddyError } from '../core/errors.js';
import type { IdGenerator } from '../core/ids.js';
import type { Principal } from '../auth/principal.js';
import type { FileService } from '../files/file-service.js';
import { decodeText } from '../files/text-content.js';
import type { NoteArtifactRepository, NoteArtifactRow } from '../store/note-artifact-repository.js';
import type { Workspace } from '../workspaces/workspace.js';
import type { BlobStore } from './blob-store.js';

/** Bytes of a blob artifact per artifact_get answer (base64 makes it a third more). */
export const ARTIFACT_CHUNK = 192 * 1024;

export interface ArtifactView {
  id: string;
  note: string;
  kind: 'blob' | 'file';
  name: string;
  media_type: string;
  sha256: string;
  size: number;
  path?: string;
}

export interface ArtifactInput {
  note: string;
  name?: string;
  media_type?: string;
  content?: string;
  content_base64?: string;
  path?: string;
}

/** What attaching would store, checked (size included) before anything is. */
export type ArtifactPlan = { kind: 'blob'; data: Buffer; name: string; mediaType: string } | { kind: 'file'; path: string; sha256: string; size: number; name: string; mediaType: string };

export function artifactView(row: NoteArtifactRow): ArtifactView {
  return { id: row.id, note: row.note_id, kind: row.kind, name: row.name, media_type: row.media_type, sha256: row.sha256, size: row.size, ...(row.path !== null ? { path: row.path } : {}) };
}

const MEDIA_TYPES: Record<string, string> = {
  md: 'text/markdown',
  txt: 'text/plain',
  log: 'text/plain',
  json: 'application/json',
  csv: 'text/csv',
  html: 'text/html',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  pdf: 'application/pdf',
};

function mediaTypeOf(name: string, text: boolean): string {
  const extension = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  return (extension && MEDIA_TYPES[extension]) ?? (text ? 'text/plain' : 'application/octet-stream');
}

/**
 * A note's artifacts: content stored as a blob (blob-store.ts), or a workspace file named by
 * path and sha256, reached only through the file service (the handle walk). The notes
 * service owns the notes; this owns what hangs off them as attachments, and the collection
 * of blobs no artifact names any more.
 */
export class NoteArtifacts {
  constructor(
    private readonly artifacts: NoteArtifactRepository,
    private readonly blobs: BlobStore,
    private readonly files: FileService,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    /** Refuses (E_NOT_FOUND naming the field) a note that is not in the workspace. */
    private readonly requireNote: (workspace: Workspace, id: string, field: string) => void,
  ) {}

  async plan(workspace: Workspace, input: ArtifactInput): Promise<ArtifactPlan> {
    this.requireNote(workspace, input.note, 'note');
    const given = [input.content, input.content_base64, input.path].filter((value) => value !== undefined).length;
    if (given !== 1) throw new CodeBuddyError('E_INVALID_ARGUMENT', 'give exactly one of content, content_base64 or path', { field: 'content' });
    if (input.path !== undefined) {
      const { relative } = await this.files.resolve(workspace, input.path);
      const stat = await this.files.stat(workspace, { path: relative });
      if (stat.type !== 'file') throw new CodeBuddyError('E_NOT_A_FILE', `${relative || '(workspace root)'} is not a regular file`, { field: 'path' });
      if (stat.sha256 === undefined) throw new CodeBuddyError('E_TOO_LARGE', `${relative} is ${stat.size} bytes, too large to hash (CODEBUDDY_MAX_FILE_BYTES)`, { field: 'path' });
      const name = input.name ?? basename(relative);
      return { kind: 'file', path: relative, sha256: stat.sha256, size: stat.size, name, mediaType: input.media_type ?? mediaTypeOf(name, false) };
    }
    let data: Buffer;
    if (input.content !== undefined) {
      this.blobs.assertSize(Buffer.byteLength(input.content, 'utf8'), 'content');
      data = Buffer.from(input.content, 'utf8');
    } else {
      const encoded = input.content_base64!;
      // Sized before decoding: a huge string is refused without allocating its bytes.
      this.blobs.assertSize(base64ByteLength(encoded), 'content_base64');
      data = decodeBase64(encoded, 'content_base64');
    }
    const name = input.name ?? 'artifact';
    return { kind: 'blob', data, name, mediaType: input.media_type ?? mediaTypeOf(name, input.content !== undefined) };
  }

  async add(principal: Principal, workspace: Workspace, input: ArtifactInput): Promise<ArtifactView> {
    const plan = await this.plan(workspace, input);
    // From here on, synchronous: the blob, its row and any collection of blobs cannot interleave.
    this.requireNote(workspace, input.note, 'note');
    const stored = plan.kind === 'blob' ? this.blobs.put(plan.data, input.content !== undefined ? 'content' : 'content_base64') : { sha256: plan.sha256, size: plan.size };
    const row: NoteArtifactRow = {
      tenant_id: workspace.tenantId,
      workspace_id: workspace.id,
      id: this.ids.next('art'),
      note_id: input.note,
      kind: plan.kind,
      name: plan.name,
      media_type: plan.mediaType,
      sha256: stored.sha256,
      size: stored.size,
      path: plan.kind === 'file' ? plan.path : null,
      created_by: principal.userId,
      created_at: this.clock.now(),
    };
    try {
      this.artifacts.insert(row);
    } catch (error) {
      // A blob stored for a row that could not be written must not linger unnamed.
      if (plan.kind === 'blob') this.collect([stored.sha256]);
      throw error;
    }
    return artifactView(row);
  }

  /**
   * A blob artifact's content, in chunks (text when it is UTF-8 text and fits in one); a file
   * artifact's metadata and whether the file still has the content it had when attached.
   */
  async get(
    workspace: Workspace,
    input: { id: string; cursor?: string },
  ): Promise<ArtifactView & { content?: string; content_base64?: string; offset?: number; next_cursor?: string; current_sha256?: string | null }> {
    const row = this.artifacts.find(workspace.tenantId, workspace.id, input.id);
    if (!row) throw new CodeBuddyError('E_NOT_FOUND', `artifact ${input.id} not found`, { field: 'id' });
    const view = artifactView(row);
    if (row.kind === 'file') {
      const now = await this.files.stat(workspace, { path: row.path! }).catch((error: unknown) => {
        if (error instanceof CodeBuddyError && error.code === 'E_NOT_FOUND') return undefined;
        throw error;
      });
      return { ...view, current_sha256: now?.sha256 ?? null };
    }
    let offset = 0;
    if (input.cursor !== undefined) {
      const cursor = decodeCursor<{ a: unknown; o: unknown }>('artifact_get', input.cursor);
      if (cursor.a !== row.id || !Number.isSafeInteger(cursor.o) || (cursor.o as number) < 0) throw new CodeBuddyError('E_INVALID_CURSOR', 'that cursor belongs to another artifact', { field: 'cursor' });
      offset = cursor.o as number;
    }
    const { size, data } = this.blobs.read(row.sha256, offset, ARTIFACT_CHUNK);
    const end = offset + data.length;
    const next = end < size ? { next_cursor: encodeCursor('artifact_get', { a: row.id, o: end }) } : {};
    if (offset === 0 && end === size) {
      const text = decodeText(data);
      if (text !== undefined) return { ...view, content: text };
    }
    return { ...view, content_base64: data.toString('base64'), offset, ...next };
  }

  /** Removes the blobs among these that no artifact row (of any tenant) names any more. */
  collect(digests: readonly string[]): void {
    for (const digest of digests) if (!this.artifacts.blobReferenced(digest)) this.blobs.remove(digest);
  }
}
