import type { Principal } from '../auth/principal.js';
import { CodeBuddyError } from '../core/errors.js';
import type { NoteService } from '../notes/note-service.js';
import type { Workspace } from '../workspaces/workspace.js';
import type { DocumentSource, SourceState, Written } from './document-bridge.js';
import type { WriteAsPrincipal } from './write-as-principal.js';

/** A note's version as a bridge stamp, and back. */
const stampOf = (version: number) => `v${version}`;
const versionOf = (stamp: string) => Number(stamp.slice(1));

/**
 * A note room's source: the note's body, owned by the notes service. A human's edit is
 * written as their own `note_update` carrying the version the bridge read, so the service
 * re-extracts the tasks, and a note changed meanwhile is an E_CONFLICT the bridge merges.
 */
export class NoteSource implements DocumentSource {
  readonly stored = 'the stored note';
  readonly label: string;

  constructor(
    private readonly notes: NoteService,
    private readonly workspace: Workspace,
    private readonly writeAs: WriteAsPrincipal,
    readonly noteId: string,
    readonly maxBytes: number,
  ) {
    this.label = `note ${noteId}`;
  }

  read(): Promise<SourceState> {
    const row = this.notes.findNote(this.workspace, this.noteId);
    return Promise.resolve(row ? { kind: 'text', text: row.body, stamp: stampOf(row.version) } : { kind: 'gone' });
  }

  async write(principal: Principal, content: string, expectedStamp: string): Promise<Written> {
    const args = { workspace: this.workspace.id, id: this.noteId, version: versionOf(expectedStamp), body: content };
    const written = await this.writeAs(principal, 'note_update', args);
    if (written.held) return written;
    if (typeof written.output.version !== 'number') throw new CodeBuddyError('E_INTERNAL', 'note_update answered no version');
    return { actionId: written.actionId, held: false, stamp: stampOf(written.output.version) };
  }
}
