import { createTwoFilesPatch } from 'diff';
import { CodeBuddyError } from '../core/errors.js';
import type { Workspace } from '../workspaces/workspace.js';
import { planEdits, type Edit } from './edit-plan.js';
import type { FileService, WriteInput } from './file-service.js';
import { decodeText, sha256 } from './text-content.js';

/** What a held change would do, for the human deciding, and what it was based on. */
export interface ChangePreview {
  text: string;
  /** Workspace-relative path → sha256 the change was computed against; null where there was no file. */
  bases: Record<string, string | null>;
}

const MAX_PREVIEW_CHARS = 20_000;

const notFound = (path: string, field = 'path') => new CodeBuddyError('E_NOT_FOUND', `${path} not found`, { field });

/** A unified diff of one text (undefined: no file on that side), cut at a size a human can read. */
export function unifiedDiff(path: string, before: string | undefined, after: string | undefined): string {
  const patch = createTwoFilesPatch(before === undefined ? '/dev/null' : `a/${path}`, after === undefined ? '/dev/null' : `b/${path}`, before ?? '', after ?? '', '', '', { context: 3 });
  // The first line is the `===` banner jsdiff adds; unified diff readers expect `---` first.
  const body = patch.split('\n').slice(1).join('\n');
  return body.length > MAX_PREVIEW_CHARS ? `${body.slice(0, MAX_PREVIEW_CHARS)}\n…[diff cut at ${MAX_PREVIEW_CHARS} chars]` : body;
}

/** Previews of file changes, computed with the same code that would apply them. */
export class ChangePreviewer {
  constructor(private readonly files: FileService) {}

  async write(workspace: Workspace, input: Pick<WriteInput, 'path' | 'content' | 'encoding'>): Promise<ChangePreview> {
    // Content that could never be written (too large, not base64) is refused now, not held.
    const data = this.files.bytesToWrite(input);
    const after = input.encoding === 'base64' ? decodeText(data) : input.content;
    const now = await this.files.snapshot(workspace, input.path);
    const before = now.exists ? (now.text ?? '(binary file)\n') : undefined;
    const bases = { [now.path]: now.sha256 };
    if (after === undefined) return { text: `${now.exists ? 'overwrite' : 'create'} ${now.path} with ${data.length} bytes of binary content (sha256 ${sha256(data)})`, bases };
    return { text: unifiedDiff(now.path, before, after), bases };
  }

  async edit(workspace: Workspace, input: { path: string; edits: Edit[] }): Promise<ChangePreview> {
    const now = await this.files.snapshot(workspace, input.path);
    // Refuse now what would fail later: a missing file, a binary one, or edits that do not apply.
    if (!now.exists) throw notFound(now.path);
    if (now.text === undefined) throw new CodeBuddyError('E_NOT_A_FILE', `${now.path} is not a text file`, { field: 'path' });
    const plan = planEdits(now.path, now.text, input.edits);
    return { text: unifiedDiff(now.path, now.text, plan.content), bases: { [now.path]: now.sha256 } };
  }

  async delete(workspace: Workspace, input: { path: string; recursive?: boolean }): Promise<ChangePreview> {
    const now = await this.files.snapshot(workspace, input.path);
    if (!now.exists) throw notFound(now.path);
    if (now.text !== undefined) return { text: unifiedDiff(now.path, now.text, undefined), bases: { [now.path]: now.sha256 } };
    return { text: `delete ${now.sha256 === null ? `directory ${now.path}${input.recursive ? ' and everything in it' : ''}` : `binary file ${now.path}`}`, bases: { [now.path]: now.sha256 } };
  }

  async move(workspace: Workspace, input: { from: string; to: string; overwrite?: boolean }): Promise<ChangePreview> {
    const from = await this.files.snapshot(workspace, input.from);
    if (!from.exists) throw notFound(from.path, 'from');
    const to = await this.files.snapshot(workspace, input.to);
    const replacing = to.exists ? ` (replacing the existing ${to.path})` : '';
    return { text: `move ${from.path} -> ${to.path}${replacing}`, bases: { [from.path]: from.sha256, [to.path]: to.sha256 } };
  }
}
