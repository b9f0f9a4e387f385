import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { CodeBuddyError } from '../core/errors.js';
import { moreMarker } from '../core/more-marker.js';
import type { FileService } from '../files/file-service.js';
import type { DocRef, SyncRepository } from '../store/sync-repository.js';
import { DocHistory } from '../sync/doc-history.js';
import { editorsOf } from '../sync/presence.js';
import type { SyncService } from '../sync/sync-service.js';
import type { Workspace } from '../workspaces/workspace.js';
import { workspaceOperation, type Operation } from './operation.js';

const path = z.string().min(1).max(4096).optional().describe('A synced file');
const note = z.string().min(1).max(100).optional().describe('Or a synced note (id)');
const position = z.object({ line: z.number(), column: z.number() });
const DOC_AT_LINES = 500;
const editors = z.array(z.object({ user: z.string(), read_only: z.boolean(), name: z.string().optional(), cursors: z.array(z.object({ head: position, anchor: position.optional() })) }));

export function syncOperations(sync: SyncService, repo: SyncRepository, files: FileService, pageSize: number): Operation[] {
  const history = new DocHistory(repo);
  /**
   * The document of a path (named as its room is, symlinks inside resolved) or of a note; one
   * with no document is not found. `named` is what the answer repeats: `{path}` or `{note}`.
   */
  const documentOf = async (workspace: Workspace, input: { path?: string | undefined; note?: string | undefined }): Promise<DocRef & { named: { path: string } | { note: string } }> => {
    if ((input.path === undefined) === (input.note === undefined)) throw new CodeBuddyError('E_INVALID_ARGUMENT', 'give exactly one of path or note', { field: 'path' });
    const base = { tenantId: workspace.tenantId, workspaceId: workspace.id };
    if (input.note !== undefined) {
      const ref = { ...base, docKey: `note:${input.note}`, named: { note: input.note } };
      if (!history.exists(ref)) throw new CodeBuddyError('E_NOT_FOUND', `note ${input.note} has no synced document (nobody has opened it through sync)`, { field: 'note' });
      return ref;
    }
    let relative: string;
    try {
      relative = (await files.resolve(workspace, input.path!)).relative;
    } catch {
      relative = '';
    }
    const ref = { ...base, docKey: `file:${relative}`, named: { path: relative } };
    if (relative === '' || !history.exists(ref)) throw new CodeBuddyError('E_NOT_FOUND', `${input.path} has no synced document (nobody has opened it through sync)`, { field: 'path' });
    return ref;
  };
  const nameOf = (out: { path?: string | undefined; note?: string | undefined }) => out.path ?? `note ${out.note}`;
  const when = (at: number) => new Date(at).toISOString();

  return [
    workspaceOperation({
      name: 'workspace_state',
      title: 'Who has what open',
      description: 'Which files and notes humans have open through sync, and their cursors and selections.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({}),
      output: z.object({
        files: z.array(z.object({ path: z.string(), editors })),
        notes: z.array(z.object({ note: z.string(), editors })),
        present: z.array(z.object({ user: z.string(), name: z.string().optional() })),
      }),
      async run(_input, workspace) {
        const rooms = sync.openRooms(workspace.tenantId, workspace.id);
        const inUse = (kind: 'file' | 'note') => rooms.filter((room) => room.kind === kind && room.room.connections.size > 0);
        const state = rooms.find((room) => room.kind === 'state');
        return {
          files: inUse('file')
            .map((room) => ({ path: room.path!, editors: editorsOf(room.room) }))
            .sort((a, b) => a.path.localeCompare(b.path)),
          notes: inUse('note')
            .map((room) => ({ note: room.noteId!, editors: editorsOf(room.room) }))
            .sort((a, b) => a.note.localeCompare(b.note)),
          present: state ? editorsOf(state.room).map(({ user, name }) => (name === undefined ? { user } : { user, name })) : [],
        };
      },
      render(out) {
        if (out.files.length === 0 && out.notes.length === 0 && out.present.length === 0) return 'nobody has anything open through sync';
        const at = (p: { line: number; column: number }) => `${p.line}:${p.column}`;
        const documents = [...out.files.map((file) => ({ name: file.path, editors: file.editors })), ...out.notes.map((note) => ({ name: `note ${note.note}`, editors: note.editors }))];
        const lines = documents.flatMap((document) =>
          document.editors.map((editor) => {
            const cursors = editor.cursors.map((cursor) => (cursor.anchor ? `${at(cursor.anchor)}-${at(cursor.head)}` : at(cursor.head))).join(' ');
            return `${document.name}  ${editor.user}${editor.name ? ` (${editor.name})` : ''}${editor.read_only ? ' read-only' : ''}${cursors ? `  at ${cursors}` : ''}`;
          }),
        );
        if (out.present.length > 0) lines.push(`present: ${out.present.map((p) => p.user).join(', ')}`);
        return lines.join('\n');
      },
    }),
    workspaceOperation({
      name: 'doc_history',
      title: 'Document history',
      description: 'Changes of a synced file or note by time, author and action id, oldest first, paged.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({ path, note, cursor: z.string().max(1000).optional() }),
      output: z.object({
        path: z.string().optional(),
        note: z.string().optional(),
        entries: z.array(z.object({ seq: z.number(), at: z.string(), author: z.string().nullable(), action_id: z.string().nullable(), origin: z.string(), bytes: z.number() })),
        next_cursor: z.string().optional(),
      }),
      async run(input, workspace) {
        const ref = await documentOf(workspace, input);
        const after = input.cursor === undefined ? 0 : decodeCursor<{ doc: string; seq: number }>('doc_history', input.cursor);
        if (typeof after !== 'number' && after.doc !== ref.docKey) throw new CodeBuddyError('E_INVALID_CURSOR', 'that cursor belongs to another document', { field: 'cursor' });
        const page = history.page(ref, typeof after === 'number' ? after : after.seq, pageSize);
        const entries = page.entries.map((entry) => ({ ...entry, at: when(entry.at) }));
        const last = page.entries.at(-1);
        return page.more && last ? { ...ref.named, entries, next_cursor: encodeCursor('doc_history', { doc: ref.docKey, seq: last.seq }) } : { ...ref.named, entries };
      },
      render: (out) =>
        (out.entries.length === 0
          ? `${nameOf(out)}: no changes`
          : out.entries.map((e) => `${e.seq}  ${e.at}  ${e.origin === 'client' ? e.author : e.origin}${e.action_id ? `  ${e.action_id}` : ''}  ${e.bytes}B`).join('\n')) +
        moreMarker(out.next_cursor, `${out.entries.length} changes shown`),
    }),
    workspaceOperation({
      name: 'doc_at',
      title: 'Document at a past point',
      description: 'A synced file or note as it was at a history seq or an ISO time, as numbered lines.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({
        path,
        note,
        at: z.union([z.number().int().min(0), z.string().min(1).max(40)]).describe('doc_history seq, or ISO 8601 time'),
        offset_line: z.number().int().min(1).optional().describe('First line, 1-based'),
      }),
      output: z.object({ path: z.string().optional(), note: z.string().optional(), seq: z.number(), content: z.string(), total_lines: z.number(), start_line: z.number(), end_line: z.number() }),
      async run(input, workspace) {
        const ref = await documentOf(workspace, input);
        const seq = history.seqOf(ref, input.at);
        const content = history.contentAt(ref, seq);
        const lines = content === '' ? [] : content.split('\n');
        const start = Math.min(input.offset_line ?? 1, lines.length + 1);
        const end = Math.min(lines.length, start + DOC_AT_LINES - 1);
        // The whole content when it fits one page: an exact replay is what the caller compares.
        const shown = start === 1 && end === lines.length ? content : lines.slice(start - 1, end).join('\n');
        return { ...ref.named, seq, content: shown, total_lines: lines.length, start_line: start, end_line: end };
      },
      render(out) {
        const body = out.content === '' ? '(empty)' : out.content.split('\n').slice(0, out.end_line - out.start_line + 1).map((text, i) => `${out.start_line + i}\t${text}`).join('\n');
        const more = out.end_line < out.total_lines ? `\n[lines ${out.start_line}-${out.end_line} of ${out.total_lines}; more: call again with offset_line ${out.end_line + 1}]` : '';
        return `${nameOf(out)} at seq ${out.seq}:\n${body}${more}`;
      },
    }),
  ];
}
