import { unifiedDiff, type ChangePreview } from '../files/change-preview.js';
import type { Workspace } from '../workspaces/workspace.js';
import { describeTarget, linkView } from './note-links.js';
import type { ArtifactInput } from './note-artifacts.js';
import { NEW_NOTE_POLICY_PATH, notePolicyPath, type LinkInput, type NoteService, type NoteUpdate, type TaskUpdate } from './note-service.js';

/**
 * What a held note write would do, for the human deciding, computed with the service's own
 * plans (so a preview refuses what the write would), and what it was based on: a note's
 * version where the write rewrites it, its existence where the write only hangs something
 * off it. Approval recomputes these; any difference is E_STALE_PROPOSAL.
 */
const version = (v: number) => `v${v}`;
const EXISTS = 'exists';

/** The metadata lines above a body diff: what else the change sets. */
function header(lines: (string | false)[]): string {
  const kept = lines.filter((line): line is string => line !== false);
  return kept.length === 0 ? '' : `${kept.join('\n')}\n`;
}

export class NotePreviewer {
  constructor(private readonly notes: NoteService) {}

  create(input: { title: string; body?: string; tags?: string[] }): ChangePreview {
    const text = header([`new note "${input.title}"`, (input.tags?.length ?? 0) > 0 && `tags: ${input.tags!.join(', ')}`]) + unifiedDiff(NEW_NOTE_POLICY_PATH, undefined, input.body ?? '');
    return { text, bases: {} };
  }

  update(workspace: Workspace, input: NoteUpdate): ChangePreview {
    const { before, after } = this.notes.planUpdate(workspace, input);
    const path = notePolicyPath(before.id);
    const tagsBefore = (JSON.parse(before.tags_json) as string[]).join(', ');
    const text =
      header([
        `update note ${before.id} (version ${before.version})`,
        after.title !== before.title && `title: "${before.title}" -> "${after.title}"`,
        after.tags.join(', ') !== tagsBefore && `tags: [${tagsBefore}] -> [${after.tags.join(', ')}]`,
      ]) + (after.body === before.body ? '(body unchanged)' : unifiedDiff(path, before.body, after.body));
    return { text, bases: { [path]: version(before.version) } };
  }

  delete(workspace: Workspace, input: { id: string; version?: number }): ChangePreview {
    const note = this.notes.requireNote(workspace, input.id, 'id');
    const path = notePolicyPath(note.id);
    const text = header([`delete note ${note.id} "${note.title}" with its links, tasks and artifacts`]) + unifiedDiff(path, note.body, undefined);
    return { text, bases: { [path]: version(note.version) } };
  }

  async link(workspace: Workspace, input: LinkInput): Promise<ChangePreview> {
    const { row, existing } = await this.notes.planLink(workspace, input);
    const view = linkView(row);
    const bases: Record<string, string | null> = { [notePolicyPath(row.from_note)]: EXISTS };
    if (row.target_kind === 'note') bases[notePolicyPath(row.target_ref)] = EXISTS;
    return { text: `link note ${row.from_note} -${row.type}-> ${describeTarget(view.to)}${existing ? ' (exists already)' : ''}`, bases };
  }

  unlink(workspace: Workspace, input: { id: string }): ChangePreview {
    const view = linkView(this.notes.requireLink(workspace, input.id));
    return { text: `unlink ${view.id}: note ${view.from} -${view.type}-> ${describeTarget(view.to)}`, bases: { [`links/${view.id}`]: EXISTS } };
  }

  taskUpdate(workspace: Workspace, input: TaskUpdate): ChangePreview {
    const { note, body } = this.notes.planTaskUpdate(workspace, input);
    const path = notePolicyPath(note.id);
    return { text: header([`update task ${input.id} in note ${note.id} (version ${note.version})`]) + unifiedDiff(path, note.body, body), bases: { [path]: version(note.version) } };
  }

  async artifact(workspace: Workspace, input: ArtifactInput): Promise<ChangePreview> {
    const plan = await this.notes.artifacts.plan(workspace, input);
    const bases: Record<string, string | null> = { [notePolicyPath(input.note)]: EXISTS };
    if (plan.kind === 'file') {
      // Approval attaches the file as it is then: it must still be what the approver saw.
      bases[plan.path] = plan.sha256;
      return { text: `attach file ${plan.path} (${plan.size} bytes, sha256 ${plan.sha256}) to note ${input.note} as "${plan.name}"`, bases };
    }
    const summary = `attach "${plan.name}" (${plan.mediaType}, ${plan.data.length} bytes) to note ${input.note}`;
    // Text is shown as it would be stored; binary content by its size alone.
    return { text: input.content !== undefined ? `${summary}\n${unifiedDiff(plan.name, undefined, input.content)}` : summary, bases };
  }
}
