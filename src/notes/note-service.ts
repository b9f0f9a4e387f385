import type { Clock } from '../core/clock.js';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { CodeBuddyError } from '../core/errors.js';
import type { EventBus } from '../core/event-bus.js';
import type { IdGenerator } from '../core/ids.js';
import type { Principal } from '../auth/principal.js';
import type { FileService } from '../files/file-service.js';
import { sha256 } from '../files/text-content.js';
import type { Db } from '../store/database.js';
import type { NoteArtifactRepository } from '../store/note-artifact-repository.js';
import type { NoteLinkRepository, NoteLinkRow } from '../store/note-link-repository.js';
import type { NoteFilter, NoteRepository, NoteRow } from '../store/note-repository.js';
import type { NoteTaskRepository, NoteTaskRow, TaskFilter } from '../store/note-task-repository.js';
import type { Workspace } from '../workspaces/workspace.js';
import type { BlobStore } from './blob-store.js';
import { artifactView, NoteArtifacts, type ArtifactView } from './note-artifacts.js';
import { linkView, type LinkView } from './note-links.js';
import { translateQuery } from './search-query.js';
import { matchTaskIds, parseTaskLines, rewriteTaskLine, type TaskChange } from './task-lines.js';

/**
 * What a note presents to workspace policies: `notes/<id>` (a new note: `notes/new`). Rules
 * on `notes/**` bind every note write; a rule meant for notes alone should also name the
 * operations (`note_*`, `task_update`, `artifact_add`), since `notes/**` would match a
 * workspace directory named `notes` as well.
 */
export const notePolicyPath = (id: string) => `notes/${id}`;
export const NEW_NOTE_POLICY_PATH = 'notes/new';

// Pages sized for an agent's context: a note list line is short, a search hit carries a snippet.
const LIST_PAGE = 50;
const SEARCH_PAGE = 20;
const TASK_PAGE = 100;
/** How many links, tasks and artifacts note_get shows before pointing at the listing tools. */
export const DETAIL_ITEMS = 100;
export interface NoteView {
  id: string;
  title: string;
  tags: string[];
  author: string;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface TaskView {
  id: string;
  note: string;
  line: number;
  text: string;
  status: 'open' | 'done';
  assignee: string | null;
  due: string | null;
}

export interface NoteDetail extends NoteView {
  body: string;
  links: LinkView[];
  backlinks: LinkView[];
  tasks: TaskView[];
  artifacts: ArtifactView[];
  /** True when a list above was cut at DETAIL_ITEMS. */
  truncated: boolean;
}

export interface NoteUpdate {
  id: string;
  version: number;
  title?: string;
  body?: string;
  tags?: string[];
}

export interface LinkInput {
  from: string;
  type: string;
  note?: string;
  path?: string;
  symbol?: string;
}

export interface TaskUpdate extends TaskChange {
  id: string;
}

/** What a write call carries besides its input: the action it is recorded as, named on the bus. */
export interface NoteCall {
  actionId?: string;
}

export interface NoteRepositories {
  notes: NoteRepository;
  links: NoteLinkRepository;
  tasks: NoteTaskRepository;
  artifacts: NoteArtifactRepository;
}

const iso = (ms: number) => new Date(ms).toISOString();
const notFound = (what: string, id: string, field: string) => new CodeBuddyError('E_NOT_FOUND', `${what} ${id} not found`, { field });

function noteView(row: NoteRow): NoteView {
  return { id: row.id, title: row.title, tags: JSON.parse(row.tags_json) as string[], author: row.author, created_at: iso(row.created_at), updated_at: iso(row.updated_at), version: row.version };
}

function taskView(row: NoteTaskRow): TaskView {
  return { id: row.id, note: row.note_id, line: row.line, text: row.text, status: row.status, assignee: row.assignee, due: row.due };
}

/**
 * A workspace's notes, and everything hanging off them: links, tasks (checkbox lines of the
 * bodies, kept in step both ways), artifacts (blobs or workspace files) and full-text search.
 * The service owns these tables; every multi-row change is one transaction. Workspace files
 * are reached only through the file service (the handle walk).
 */
export class NoteService {
  private readonly notes: NoteRepository;
  private readonly links: NoteLinkRepository;
  private readonly tasks: NoteTaskRepository;
  private readonly artifactRows: NoteArtifactRepository;
  /** The notes' attachments: artifact_add and artifact_get go here. */
  readonly artifacts: NoteArtifacts;
  private readonly transaction: <T>(work: () => T) => T;

  constructor(
    db: Db,
    repositories: NoteRepositories,
    blobs: BlobStore,
    private readonly files: FileService,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly noteMaxBytes: number,
    private readonly events: EventBus,
  ) {
    ({ notes: this.notes, links: this.links, tasks: this.tasks, artifacts: this.artifactRows } = repositories);
    this.artifacts = new NoteArtifacts(this.artifactRows, blobs, files, ids, clock, (workspace, id, field) => this.requireNote(workspace, id, field));
    const run = db.transaction((work: () => unknown) => work());
    this.transaction = <T>(work: () => T) => run(work) as T;
  }

  /** Links follow moved files; a deleted workspace takes its notes along. Returns the unsubscribe. */
  follow(): () => void {
    const events = this.events;
    const offMoved = events.subscribe('files.moved', (event) => this.links.move(event.tenantId, event.workspaceId, event.from, event.to));
    const offDeleted = events.subscribe('workspace.deleted', (event) => this.deleteWorkspace(event.tenantId, event.workspaceId));
    return () => {
      offMoved();
      offDeleted();
    };
  }

  // ---- notes ----

  create(principal: Principal, workspace: Workspace, input: { title: string; body?: string; tags?: string[] }, call: NoteCall = {}): NoteView {
    const body = input.body ?? '';
    this.assertBodySize(body);
    const now = this.clock.now();
    const tags = [...new Set(input.tags ?? [])];
    const row: NoteRow = {
      tenant_id: workspace.tenantId,
      workspace_id: workspace.id,
      id: this.ids.next('note'),
      title: input.title,
      body,
      tags_json: JSON.stringify(tags),
      author: principal.userId,
      created_at: now,
      updated_at: now,
      version: 1,
    };
    this.transaction(() => {
      this.notes.insert(row, tags);
      this.syncTasks(workspace, row.id, body);
    });
    this.announce(workspace, row.id, 'created', call, row.version);
    return noteView(row);
  }

  get(workspace: Workspace, id: string): NoteDetail {
    const row = this.requireNote(workspace, id, 'id');
    const { tenantId, id: workspaceId } = workspace;
    const links = this.links.from(tenantId, workspaceId, id);
    const backlinks = this.links.toNote(tenantId, workspaceId, id);
    const tasks = this.tasks.ofNote(tenantId, workspaceId, id);
    const artifacts = this.artifactRows.ofNote(tenantId, workspaceId, id);
    const truncated = [links, backlinks, tasks, artifacts].some((list) => list.length > DETAIL_ITEMS);
    return {
      ...noteView(row),
      body: row.body,
      links: links.slice(0, DETAIL_ITEMS).map(linkView),
      backlinks: backlinks.slice(0, DETAIL_ITEMS).map(linkView),
      tasks: tasks.slice(0, DETAIL_ITEMS).map(taskView),
      artifacts: artifacts.slice(0, DETAIL_ITEMS).map(artifactView),
      truncated,
    };
  }

  /** The note as it stands, or E_NOT_FOUND naming `field`. */
  requireNote(workspace: Workspace, id: string, field: string): NoteRow {
    const row = this.findNote(workspace, id);
    if (!row) throw notFound('note', id, field);
    return row;
  }

  /** The note of this workspace (and tenant) with this id, if there is one. */
  findNote(workspace: Workspace, id: string): NoteRow | undefined {
    return this.notes.find(workspace.tenantId, workspace.id, id);
  }

  /** What an update would make of the note: checked now, so a preview refuses what the update would. */
  planUpdate(workspace: Workspace, input: NoteUpdate): { before: NoteRow; after: { title: string; body: string; tags: string[] } } {
    if (input.title === undefined && input.body === undefined && input.tags === undefined) {
      throw new CodeBuddyError('E_INVALID_ARGUMENT', 'nothing to update: give title, body or tags', { field: 'body' });
    }
    const before = this.requireNote(workspace, input.id, 'id');
    this.assertVersion(before, input.version);
    const body = input.body ?? before.body;
    this.assertBodySize(body);
    return { before, after: { title: input.title ?? before.title, body, tags: input.tags ? [...new Set(input.tags)] : (JSON.parse(before.tags_json) as string[]) } };
  }

  update(workspace: Workspace, input: NoteUpdate, call: NoteCall = {}): NoteView {
    const { before, after } = this.planUpdate(workspace, input);
    return this.write(workspace, before, after, call);
  }

  /** Deletes the note with its links (both ways), tasks and artifacts; blobs no longer named go too. */
  delete(workspace: Workspace, input: { id: string; version?: number }, call: NoteCall = {}): { id: string; links: number; tasks: number; artifacts: number } {
    const { tenantId, id: workspaceId } = workspace;
    const { counts, blobs } = this.transaction(() => {
      const row = this.requireNote(workspace, input.id, 'id');
      if (input.version !== undefined) this.assertVersion(row, input.version);
      const artifacts = this.artifactRows.ofNote(tenantId, workspaceId, row.id).length;
      const links = this.links.deleteOfNote(tenantId, workspaceId, row.id);
      const tasks = this.tasks.deleteOfNote(tenantId, workspaceId, row.id);
      const blobs = this.artifactRows.deleteOfNote(tenantId, workspaceId, row.id);
      this.notes.delete(tenantId, workspaceId, row.id);
      return { counts: { links, tasks, artifacts }, blobs };
    });
    this.artifacts.collect(blobs);
    this.announce(workspace, input.id, 'deleted', call);
    return { id: input.id, ...counts };
  }

  list(workspace: Workspace, input: { tag?: string; linked_to?: string; cursor?: string }): { notes: NoteView[]; next_cursor?: string } {
    const before = input.cursor === undefined ? '\uffff' : String(decodeCursor<{ b: unknown }>('note_list', input.cursor).b);
    const filter: NoteFilter = { ...(input.tag !== undefined ? { tag: input.tag } : {}), ...(input.linked_to !== undefined ? { linkedTo: input.linked_to } : {}) };
    const rows = this.notes.list(workspace.tenantId, workspace.id, filter, before, LIST_PAGE + 1);
    const page = rows.slice(0, LIST_PAGE).map(noteView);
    return rows.length > LIST_PAGE ? { notes: page, next_cursor: encodeCursor('note_list', { b: page.at(-1)!.id }) } : { notes: page };
  }

  search(workspace: Workspace, input: { query: string; cursor?: string }): { hits: (Pick<NoteView, 'id' | 'title' | 'tags' | 'version'> & { snippet: string })[]; next_cursor?: string } {
    const match = translateQuery(input.query);
    const identity = sha256(input.query).slice(0, 16);
    let offset = 0;
    if (input.cursor !== undefined) {
      const cursor = decodeCursor<{ q: unknown; o: unknown }>('note_search', input.cursor);
      if (cursor.q !== identity || !Number.isSafeInteger(cursor.o) || (cursor.o as number) < 0) {
        throw new CodeBuddyError('E_INVALID_CURSOR', 'that cursor belongs to another query', { field: 'cursor' });
      }
      offset = cursor.o as number;
    }
    let rows;
    try {
      rows = this.notes.search(workspace.tenantId, workspace.id, match, offset, SEARCH_PAGE + 1);
    } catch (error) {
      // The translation should leave FTS5 nothing to refuse; if it ever does, the query is at fault, not the server.
      if ((error as { code?: string }).code?.startsWith('SQLITE_')) throw new CodeBuddyError('E_INVALID_ARGUMENT', `query: not understood (${(error as Error).message})`, { field: 'query' });
      throw error;
    }
    const hits = rows.slice(0, SEARCH_PAGE).map((row) => ({ id: row.id, title: row.title, tags: JSON.parse(row.tags_json) as string[], version: row.version, snippet: row.snippet.replace(/\s+/g, ' ').trim() }));
    return rows.length > SEARCH_PAGE ? { hits, next_cursor: encodeCursor('note_search', { q: identity, o: offset + SEARCH_PAGE }) } : { hits };
  }

  // ---- links ----

  /** The link the call would make, resolved and checked (its path through the file service); `existing` when the note has it already. */
  async planLink(workspace: Workspace, input: LinkInput): Promise<{ row: NoteLinkRow; existing?: NoteLinkRow }> {
    const from = this.requireNote(workspace, input.from, 'from');
    if ((input.note === undefined) === (input.path === undefined)) throw new CodeBuddyError('E_INVALID_ARGUMENT', 'link to exactly one of note or path', { field: 'note' });
    if (input.symbol !== undefined && input.path === undefined) throw new CodeBuddyError('E_INVALID_ARGUMENT', 'a symbol is named within its file: give path too', { field: 'symbol' });
    let target: Pick<NoteLinkRow, 'target_kind' | 'target_ref' | 'target_symbol'>;
    if (input.note !== undefined) {
      if (input.note === from.id) throw new CodeBuddyError('E_INVALID_ARGUMENT', 'a note cannot link to itself', { field: 'note' });
      this.requireNote(workspace, input.note, 'note');
      target = { target_kind: 'note', target_ref: input.note, target_symbol: '' };
    } else {
      const { relative } = await this.files.resolve(workspace, input.path!);
      if (relative === '') throw new CodeBuddyError('E_INVALID_ARGUMENT', 'link to a file or directory inside the workspace, not its root', { field: 'path' });
      target = { target_kind: input.symbol === undefined ? 'file' : 'symbol', target_ref: relative, target_symbol: input.symbol ?? '' };
    }
    const row: NoteLinkRow = { tenant_id: workspace.tenantId, workspace_id: workspace.id, id: '', from_note: from.id, type: input.type, ...target, created_by: '', created_at: 0 };
    const existing = this.links.findSame(row);
    return existing ? { row, existing } : { row };
  }

  async link(principal: Principal, workspace: Workspace, input: LinkInput): Promise<LinkView & { created: boolean }> {
    const { row } = await this.planLink(workspace, input);
    // The file service's answer came after an await: the notes are checked again where the row is written.
    return this.transaction(() => {
      this.requireNote(workspace, row.from_note, 'from');
      if (row.target_kind === 'note') this.requireNote(workspace, row.target_ref, 'note');
      const existing = this.links.findSame(row);
      if (existing) return { ...linkView(existing), created: false };
      const created = { ...row, id: this.ids.next('lnk'), created_by: principal.userId, created_at: this.clock.now() };
      this.links.insert(created);
      return { ...linkView(created), created: true };
    });
  }

  requireLink(workspace: Workspace, id: string): NoteLinkRow {
    const row = this.links.find(workspace.tenantId, workspace.id, id);
    if (!row) throw notFound('link', id, 'id');
    return row;
  }

  unlink(workspace: Workspace, input: { id: string }): LinkView {
    const row = this.requireLink(workspace, input.id);
    this.links.delete(workspace.tenantId, workspace.id, row.id);
    return linkView(row);
  }

  // ---- tasks ----

  listTasks(workspace: Workspace, input: TaskFilter & { cursor?: string }): { tasks: TaskView[]; next_cursor?: string } {
    const cursor = input.cursor === undefined ? undefined : decodeCursor<{ n: unknown; l: unknown }>('task_list', input.cursor);
    const position = cursor === undefined ? { note: '', line: 0 } : { note: String(cursor.n), line: Number(cursor.l) || 0 };
    const filter: TaskFilter = { ...(input.status !== undefined ? { status: input.status } : {}), ...(input.assignee !== undefined ? { assignee: input.assignee } : {}) };
    const rows = this.tasks.list(workspace.tenantId, workspace.id, filter, position, TASK_PAGE + 1);
    const tasks = rows.slice(0, TASK_PAGE).map(taskView);
    const last = tasks.at(-1);
    return rows.length > TASK_PAGE && last ? { tasks, next_cursor: encodeCursor('task_list', { n: last.note, l: last.line }) } : { tasks };
  }

  /** The body with the task's checkbox line rewritten: for the preview and for the update alike. */
  planTaskUpdate(workspace: Workspace, input: TaskUpdate): { note: NoteRow; task: NoteTaskRow; body: string } {
    const task = this.tasks.find(workspace.tenantId, workspace.id, input.id);
    if (!task) throw notFound('task', input.id, 'id');
    const note = this.requireNote(workspace, task.note_id, 'id');
    const lines = note.body.split('\n');
    const rewritten = rewriteTaskLine(lines[task.line - 1] ?? '', input);
    const parsed = parseTaskLines(rewritten);
    if (parsed.length !== 1) throw new CodeBuddyError('E_INVALID_ARGUMENT', 'the task would have no text left; give text', { field: 'text' });
    lines[task.line - 1] = rewritten;
    const body = lines.join('\n');
    this.assertBodySize(body);
    return { note, task, body };
  }

  updateTask(workspace: Workspace, input: TaskUpdate, call: NoteCall = {}): { task: TaskView; note: NoteView } {
    const { note, body } = this.planTaskUpdate(workspace, input);
    // A change that leaves the line as it is (ticking a ticked task) writes nothing.
    const view = body === note.body ? noteView(note) : this.write(workspace, note, { title: note.title, body, tags: JSON.parse(note.tags_json) as string[] }, call);
    const task = this.tasks.find(workspace.tenantId, workspace.id, input.id)!;
    return { task: taskView(task), note: view };
  }

  // ---- workspace lifecycle ----

  /** Everything of a deleted workspace; its blobs go when no other artifact names them. */
  deleteWorkspace(tenantId: string, workspaceId: string): void {
    const blobs = this.transaction(() => {
      this.links.deleteWorkspace(tenantId, workspaceId);
      this.tasks.deleteWorkspace(tenantId, workspaceId);
      this.notes.deleteWorkspace(tenantId, workspaceId);
      return this.artifactRows.deleteWorkspace(tenantId, workspaceId);
    });
    this.artifacts.collect(blobs);
  }

  // ---- internals ----

  /** Writes a new title, body and tags at the version read, and brings the tasks in step. */
  private write(workspace: Workspace, before: NoteRow, after: { title: string; body: string; tags: string[] }, call: NoteCall): NoteView {
    const updatedAt = this.clock.now();
    this.transaction(() => {
      const row = { tenant_id: workspace.tenantId, workspace_id: workspace.id, id: before.id, title: after.title, body: after.body, tags_json: JSON.stringify(after.tags), updated_at: updatedAt, version: before.version };
      if (!this.notes.update(row, after.tags)) {
        // Gone (E_NOT_FOUND) or moved on (E_CONFLICT) since it was read.
        this.assertVersion(this.requireNote(workspace, before.id, 'id'), before.version);
      }
      if (after.body !== before.body) this.syncTasks(workspace, before.id, after.body);
    });
    const view = noteView(this.requireNote(workspace, before.id, 'id'));
    this.announce(workspace, before.id, 'updated', call, view.version);
    return view;
  }

  /** Every change of a note is told on the bus from here, once committed (open sync rooms follow it). */
  private announce(workspace: Workspace, noteId: string, kind: 'created' | 'updated' | 'deleted', call: NoteCall, version?: number): void {
    this.events.publish('notes.changed', {
      tenantId: workspace.tenantId,
      workspaceId: workspace.id,
      noteId,
      kind,
      ...(version === undefined ? {} : { version }),
      ...(call.actionId === undefined ? {} : { actionId: call.actionId }),
    });
  }

  /** The note's task rows become its checkbox lines, keeping ids by the rule in task-lines.ts. */
  private syncTasks(workspace: Workspace, noteId: string, body: string): void {
    const old = this.tasks.ofNote(workspace.tenantId, workspace.id, noteId);
    const fresh = parseTaskLines(body);
    if (old.length === 0 && fresh.length === 0) return;
    const ids = matchTaskIds(old, fresh);
    this.tasks.replaceOfNote(
      workspace.tenantId,
      workspace.id,
      noteId,
      fresh.map((task, index) => ({
        tenant_id: workspace.tenantId,
        workspace_id: workspace.id,
        id: ids[index] ?? this.ids.next('task'),
        note_id: noteId,
        line: task.line,
        text: task.text,
        status: task.done ? 'done' : 'open',
        assignee: task.assignee,
        due: task.due,
      })),
    );
  }

  private assertVersion(row: NoteRow, version: number): void {
    if (row.version !== version) {
      throw new CodeBuddyError('E_CONFLICT', `note ${row.id} is at version ${row.version}, not ${version}: it changed since you read it; get it again and retry`, { field: 'version', current_version: row.version });
    }
  }

  private assertBodySize(body: string): void {
    const size = Buffer.byteLength(body, 'utf8');
    if (size > this.noteMaxBytes) throw new CodeBuddyError('E_TOO_LARGE', `the body is ${size} bytes; the limit is ${this.noteMaxBytes} (CODEBUDDY_NOTE_MAX_BYTES)`, { field: 'body', limit: this.noteMaxBytes });
  }
}
