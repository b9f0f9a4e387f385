import { z } from 'zod';
import { moreMarker } from '../core/more-marker.js';
import { describeTarget, linkTypePattern, symbolPattern, type LinkView } from '../notes/note-links.js';
import type { NotePreviewer } from '../notes/note-previews.js';
import { NEW_NOTE_POLICY_PATH, notePolicyPath, type NoteService, type TaskView } from '../notes/note-service.js';
import { assigneePattern, isRealDate } from '../notes/task-lines.js';
import { workspaceOperation, type CallContext, type Operation } from './operation.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Text stored and searched as UTF-8: no NUL (SQLite and the tokenizer stop at it), no half surrogate pairs. */
const storableText = (schema: z.ZodString) =>
  schema.refine((text) => !text.includes('\u0000'), 'NUL characters are not allowed').refine((text) => !LONE_SURROGATE.test(text), 'not valid Unicode (a lone surrogate)');

const noteId = z.string().min(1).max(100).describe('Note id');
const title = storableText(z.string().min(1).max(300)).refine((text) => !/[\u0000-\u001f\u007f]/.test(text), 'one line, no control characters');
const body = storableText(z.string()).describe('Markdown; "- [ ] text" lines are tasks (@user, due:YYYY-MM-DD)');
const tag = z.string().regex(/^[\p{L}\p{N}][\p{L}\p{N}_./:-]{0,63}$/u, 'letters, digits, _ . / : -, at most 64');
const tags = z.array(tag).max(32);
const cursor = z.string().max(8192).optional();
const version = z.number().int().min(1).describe('The version you read');

const noteView = z.object({ id: z.string(), title: z.string(), tags: z.array(z.string()), author: z.string(), created_at: z.string(), updated_at: z.string(), version: z.number() });
const linkShape = z.object({
  id: z.string(),
  type: z.string(),
  from: z.string(),
  to: z.object({ kind: z.enum(['note', 'file', 'symbol']), note: z.string().optional(), path: z.string().optional(), symbol: z.string().optional() }),
});
const taskShape = z.object({ id: z.string(), note: z.string(), line: z.number(), text: z.string(), status: z.enum(['open', 'done']), assignee: z.string().nullable(), due: z.string().nullable() });
const artifactShape = z.object({
  id: z.string(),
  note: z.string(),
  kind: z.enum(['blob', 'file']),
  name: z.string(),
  media_type: z.string(),
  sha256: z.string(),
  size: z.number(),
  path: z.string().optional(),
});

const tagList = (list: string[]) => (list.length === 0 ? '' : ` [${list.join(', ')}]`);
const noteLine = (note: z.infer<typeof noteView>) => `${note.id} v${note.version} ${note.title}${tagList(note.tags)}`;
const linkLine = (link: LinkView) => `${link.id} ${link.from} -${link.type}-> ${describeTarget(link.to)}`;
const box = (task: TaskView) => (task.status === 'done' ? '[x]' : '[ ]');
const taskLine = (task: TaskView) => `${task.id} ${box(task)} ${task.note}:${task.line} ${task.text}`;
const artifactLine = (artifact: z.infer<typeof artifactShape>) =>
  `${artifact.id} "${artifact.name}" ${artifact.kind === 'file' ? `file ${artifact.path} ` : ''}(${artifact.media_type}, ${artifact.size} bytes, sha256 ${artifact.sha256})`;

/** The action a call is recorded as, for the notes service to name when it tells of the change. */
const callOf = (context: CallContext) => (context.actionId === undefined ? {} : { actionId: context.actionId });

/** The task's status as the checkbox it sets. */
const taskUpdate = <T extends { status?: 'open' | 'done' }>(input: T) => ({ ...input, ...(input.status !== undefined ? { done: input.status === 'done' } : {}) });

function section(heading: string, lines: string[]): string {
  return lines.length === 0 ? '' : `\n${heading}:\n${lines.map((line) => `  ${line}`).join('\n')}`;
}

export function noteOperations(notes: NoteService, previews: NotePreviewer): Operation[] {
  const subject = (...ids: string[]) => Promise.resolve({ paths: ids.map(notePolicyPath) });
  return [
    workspaceOperation({
      name: 'note_create',
      rest: { method: 'POST', path: '/api/notes' },
      title: 'Create note',
      description: 'Create a note (markdown body; checkbox lines become tasks).',
      effect: 'write',
      idempotent: false,
      destructive: false,
      input: z.object({ title, body: body.optional(), tags: tags.optional() }),
      output: noteView,
      run: (input, workspace, context) => Promise.resolve(notes.create(context.principal, workspace, input, callOf(context))),
      policySubject: () => Promise.resolve({ paths: [NEW_NOTE_POLICY_PATH] }),
      preview: async (input) => previews.create(input),
      render: (out) => `created ${noteLine(out)}`,
    }),
    workspaceOperation({
      name: 'note_get',
      rest: { method: 'GET', path: '/api/notes/{id}' },
      title: 'Read note',
      description: 'A note with its body, links both ways, tasks and artifacts.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({ id: noteId }),
      output: noteView.extend({ body: z.string(), links: z.array(linkShape), backlinks: z.array(linkShape), tasks: z.array(taskShape), artifacts: z.array(artifactShape), truncated: z.boolean() }),
      run: (input, workspace) => Promise.resolve(notes.get(workspace, input.id)),
      render: (out) =>
        `${noteLine(out)} by ${out.author}, updated ${out.updated_at}\n${out.body}` +
        section('links', out.links.map(linkLine)) +
        section('linked from', out.backlinks.map(linkLine)) +
        section('tasks', out.tasks.map(taskLine)) +
        section('artifacts', out.artifacts.map(artifactLine)) +
        (out.truncated ? '\n[lists cut; task_list and note_list {linked_to} have the rest]' : ''),
    }),
    workspaceOperation({
      name: 'note_update',
      rest: { method: 'POST', path: '/api/notes/{id}' },
      title: 'Update note',
      description: 'Change a note’s title, body or tags; version must be the one you read.',
      effect: 'write',
      idempotent: true,
      destructive: true,
      input: z.object({ id: noteId, version, title: title.optional(), body: body.optional(), tags: tags.optional() }),
      output: noteView,
      run: (input, workspace, context) => Promise.resolve(notes.update(workspace, input, callOf(context))),
      policySubject: (input) => subject(input.id),
      preview: async (input, workspace) => previews.update(workspace, input),
      render: (out) => `updated ${noteLine(out)}`,
    }),
    workspaceOperation({
      name: 'note_delete',
      title: 'Delete note',
      description: 'Delete a note with its links, tasks and artifacts.',
      effect: 'write',
      idempotent: false,
      destructive: true,
      input: z.object({ id: noteId, version: version.optional() }),
      output: z.object({ id: z.string(), links: z.number(), tasks: z.number(), artifacts: z.number() }),
      run: (input, workspace, context) => Promise.resolve(notes.delete(workspace, input, callOf(context))),
      policySubject: (input) => subject(input.id),
      preview: async (input, workspace) => previews.delete(workspace, input),
      render: (out) => `deleted ${out.id} (${out.links} links, ${out.tasks} tasks, ${out.artifacts} artifacts)`,
    }),
    workspaceOperation({
      name: 'note_list',
      rest: { method: 'GET', path: '/api/notes' },
      title: 'List notes',
      description: 'List notes, newest first; filter by tag or by what they link to (note id or path).',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({ tag: tag.optional(), linked_to: z.string().min(1).max(4096).optional().describe('Note id or file path'), cursor }),
      output: z.object({ notes: z.array(noteView), next_cursor: z.string().optional() }),
      run: (input, workspace) => Promise.resolve(notes.list(workspace, input)),
      render: (out) => (out.notes.length === 0 ? 'no notes' : out.notes.map(noteLine).join('\n')) + moreMarker(out.next_cursor, `${out.notes.length} notes shown`),
    }),
    workspaceOperation({
      name: 'note_search',
      rest: { method: 'GET', path: '/api/notes/search' },
      title: 'Search notes',
      description: 'Full-text search, best first: words, "phrases", prefix*, title:word, -word, OR.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({ query: z.string().min(1).max(1000), cursor }),
      output: z.object({
        hits: z.array(z.object({ id: z.string(), title: z.string(), tags: z.array(z.string()), version: z.number(), snippet: z.string() })),
        next_cursor: z.string().optional(),
      }),
      run: (input, workspace) => Promise.resolve(notes.search(workspace, input)),
      render: (out) =>
        (out.hits.length === 0 ? 'no notes match' : out.hits.map((hit) => `${hit.id} ${hit.title}${tagList(hit.tags)}\n  ${hit.snippet}`).join('\n')) +
        moreMarker(out.next_cursor, `${out.hits.length} notes shown`),
    }),
    workspaceOperation({
      name: 'note_link',
      title: 'Link note',
      description: 'Link a note to a note, a file (path) or a symbol (path + symbol); links to files follow moves.',
      effect: 'write',
      idempotent: true,
      destructive: false,
      input: z.object({
        from: noteId,
        type: z.string().regex(linkTypePattern, 'lower-case letters, digits and _, at most 40').describe('relates, depends_on, supersedes, documents, or your own'),
        note: noteId.optional(),
        path: z.string().min(1).max(4096).optional(),
        symbol: z.string().regex(symbolPattern, 'a name path, no spaces').optional().describe('Name path in the file, e.g. Parser.parse'),
      }),
      output: linkShape.extend({ created: z.boolean() }),
      run: (input, workspace, context) => notes.link(context.principal, workspace, input),
      policySubject: (input) => subject(input.from),
      preview: (input, workspace) => previews.link(workspace, input),
      render: (out) => `${out.created ? 'linked' : 'already linked'} ${linkLine(out)}`,
    }),
    workspaceOperation({
      name: 'note_unlink',
      title: 'Unlink note',
      description: 'Remove a link by its id.',
      effect: 'write',
      idempotent: false,
      destructive: false,
      input: z.object({ id: z.string().min(1).max(100).describe('Link id') }),
      output: linkShape,
      run: (input, workspace) => Promise.resolve(notes.unlink(workspace, input)),
      policySubject: (input, workspace) => subject(notes.requireLink(workspace, input.id).from_note),
      preview: async (input, workspace) => previews.unlink(workspace, input),
      render: (out) => `unlinked ${linkLine(out)}`,
    }),
    workspaceOperation({
      name: 'task_list',
      rest: { method: 'GET', path: '/api/tasks' },
      title: 'List tasks',
      description: 'Tasks from note checkboxes, by note and line; filter by status or assignee.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({ status: z.enum(['open', 'done']).optional(), assignee: z.string().regex(assigneePattern).optional(), cursor }),
      output: z.object({ tasks: z.array(taskShape), next_cursor: z.string().optional() }),
      run: (input, workspace) => Promise.resolve(notes.listTasks(workspace, input)),
      render: (out) => (out.tasks.length === 0 ? 'no tasks' : out.tasks.map(taskLine).join('\n')) + moreMarker(out.next_cursor, `${out.tasks.length} tasks shown`),
    }),
    workspaceOperation({
      name: 'task_update',
      title: 'Update task',
      description: 'Change a task (status, text, assignee, due); its checkbox line in the note is rewritten.',
      effect: 'write',
      idempotent: true,
      destructive: false,
      input: z.object({
        id: z.string().min(1).max(100).describe('Task id'),
        status: z.enum(['open', 'done']).optional(),
        text: storableText(z.string().min(1).max(2000))
          .refine((text) => !/[\r\n]/.test(text), 'one line')
          .optional(),
        assignee: z.string().regex(assigneePattern, 'a user name').nullable().optional().describe('null removes'),
        due: z.string().refine(isRealDate, 'a date, YYYY-MM-DD').nullable().optional().describe('YYYY-MM-DD; null removes'),
      }),
      output: z.object({ task: taskShape, note: noteView }),
      run: (input, workspace, context) => Promise.resolve(notes.updateTask(workspace, taskUpdate(input), callOf(context))),
      policySubject: (input, workspace) => subject(notes.planTaskUpdate(workspace, { id: input.id }).note.id),
      preview: async (input, workspace) => previews.taskUpdate(workspace, taskUpdate(input)),
      render: (out) => `${taskLine(out.task)} (note ${out.note.id} now v${out.note.version})`,
    }),
    workspaceOperation({
      name: 'artifact_add',
      title: 'Attach artifact',
      description: 'Attach content (text or base64, stored by sha256) or a workspace file (path) to a note.',
      effect: 'write',
      idempotent: false,
      destructive: false,
      input: z.object({
        note: noteId,
        name: storableText(z.string().min(1).max(200)).optional(),
        media_type: z.string().regex(/^[\w.+-]+\/[\w.+-]+$/, 'type/subtype').max(100).optional(),
        content: storableText(z.string()).optional(),
        content_base64: z.string().optional(),
        path: z.string().min(1).max(4096).optional(),
      }),
      output: artifactShape,
      run: (input, workspace, context) => notes.artifacts.add(context.principal, workspace, input),
      policySubject: (input) => subject(input.note),
      preview: (input, workspace) => previews.artifact(workspace, input),
      render: (out) => `attached ${artifactLine(out)} to ${out.note}`,
    }),
    workspaceOperation({
      name: 'artifact_get',
      title: 'Read artifact',
      description: 'An artifact: its content (text, or base64 in chunks) or, for a file, whether it still matches.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({ id: z.string().min(1).max(100).describe('Artifact id'), cursor }),
      output: artifactShape.extend({
        content: z.string().optional(),
        content_base64: z.string().optional(),
        offset: z.number().optional(),
        next_cursor: z.string().optional(),
        current_sha256: z.string().nullable().optional(),
      }),
      run: (input, workspace) => notes.artifacts.get(workspace, input),
      render(out) {
        const head = artifactLine(out);
        if (out.kind === 'file') {
          const state = out.current_sha256 === null ? 'the file is gone' : out.current_sha256 === out.sha256 ? 'the file is unchanged' : `the file changed (sha256 now ${out.current_sha256})`;
          return `${head}\n${state}; read it with file_read`;
        }
        if (out.content !== undefined) return `${head}\n${out.content}`;
        const end = out.offset! + Buffer.from(out.content_base64!, 'base64').length;
        return `${head}\nbytes ${out.offset}-${end} as base64:\n${out.content_base64}` + moreMarker(out.next_cursor, `bytes ${out.offset}-${end} of ${out.size}`);
      },
    }),
  ];
}
