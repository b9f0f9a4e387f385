import type { Principal } from '../auth/principal.js';
import { CodeBuddyError, toCodeBuddyError } from '../core/errors.js';
import type { FileService } from '../files/file-service.js';
import type { Workspace } from '../workspaces/workspace.js';
import type { DocumentSource, SourceState, Written } from './document-bridge.js';
import { noSuchRoom, RoomRefusal } from './room-refusal.js';
import { CloseCodes } from './sync-room.js';
import type { WriteAsPrincipal } from './write-as-principal.js';

/**
 * A file room's source: the file on disk, read through the file service (the handle walk),
 * a human's edit written as their `file_write` with `expected_sha256`. The stamp is the sha256.
 */
export class FileSource implements DocumentSource {
  readonly stored = 'the file on disk';
  readonly label: string;

  constructor(
    private readonly files: FileService,
    private readonly workspace: Workspace,
    private readonly writeAs: WriteAsPrincipal,
    /** Workspace-relative, as `locate` answered it. */
    readonly path: string,
    readonly maxBytes: number,
  ) {
    this.label = path;
  }

  /**
   * The canonical path of the file a room names, refused exactly like a missing room when it
   * is missing or out of reach, and with its own code when it is there but not syncable.
   */
  static async locate(files: FileService, workspace: Workspace, path: string, maxBytes: number): Promise<string> {
    let file: Awaited<ReturnType<FileService['snapshot']>>;
    try {
      file = await files.snapshot(workspace, path);
    } catch (error) {
      const failure = toCodeBuddyError(error);
      if (failure.code === 'E_TOO_LARGE') throw new RoomRefusal(CloseCodes.tooLarge, `the file is larger than ${maxBytes} bytes: not syncable`);
      if (failure.code === 'E_NOT_A_FILE') throw new RoomRefusal(CloseCodes.unsupported, 'not a regular file: not syncable');
      throw noSuchRoom();
    }
    if (!file.exists) throw noSuchRoom();
    if (file.sha256 === null) throw new RoomRefusal(CloseCodes.unsupported, 'not a regular file: not syncable');
    if (file.text === undefined) throw new RoomRefusal(CloseCodes.unsupported, 'a binary file: not syncable');
    return file.path;
  }

  async read(): Promise<SourceState> {
    try {
      const file = await this.files.snapshot(this.workspace, this.path);
      if (!file.exists) return { kind: 'gone' };
      if (file.text === undefined || file.sha256 === null) return { kind: 'unsyncable' };
      const writer = this.files.writerOf(this.workspace, file.path, file.sha256);
      return writer === undefined ? { kind: 'text', text: file.text, stamp: file.sha256 } : { kind: 'text', text: file.text, stamp: file.sha256, actionId: writer };
    } catch (error) {
      const failure = toCodeBuddyError(error);
      // Grown past the limit, turned into a directory: no longer a syncable text file.
      if (failure.code === 'E_TOO_LARGE' || failure.code === 'E_NOT_A_FILE') return { kind: 'unsyncable' };
      if (failure.code === 'E_NOT_FOUND' || failure.code === 'E_NOT_A_DIRECTORY' || failure.code === 'E_PATH_OUTSIDE_WORKSPACE') return { kind: 'gone' };
      throw error;
    }
  }

  async write(principal: Principal, content: string, expectedStamp: string): Promise<Written> {
    const args = { workspace: this.workspace.id, path: this.path, content, expected_sha256: expectedStamp };
    const written = await this.writeAs(principal, 'file_write', args);
    if (written.held) return written;
    if (typeof written.output.sha256 !== 'string') throw new CodeBuddyError('E_INTERNAL', 'file_write answered no sha256');
    return { actionId: written.actionId, held: false, stamp: written.output.sha256 };
  }
}
