import { closeSync, constants, fchownSync, fstatSync, lstatSync, open, openSync, renameSync, rmdirSync, unlinkSync, type Stats } from 'node:fs';
import { rename } from 'node:fs/promises';
import { promisify } from 'node:util';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { base64ByteLength, decodeBase64 } from '../core/base64.js';
import { CodeBuddyError } from '../core/errors.js';
import type { EventBus, FileChange } from '../core/event-bus.js';
import type { Workspace } from '../workspaces/workspace.js';
import { commitChangeSet, type ChangeSetEntry } from './change-set.js';
import { planEdits, type Edit } from './edit-plan.js';
import { fsError, notFound } from './fs-errors.js';
import { PathLock } from './path-lock.js';
import { resolveInWorkspace, type ResolvedPath } from './path-resolver.js';
import { RecentWrites } from './recent-writes.js';
import { readOpenFile, writeOpenFile } from './regular-file.js';
import { removeTree } from './remove-tree.js';
import { scratchName } from './scratch-name.js';
import { decodeText, sha256, splitLines } from './text-content.js';
import { at, locateInWorkspace, openWorkspaceFile, READ_FILE, type Located } from './workspace-handle.js';

export type { Edit };

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_WRONLY } = constants;
/** open(2) on the thread pool, answering the numeric descriptor the rest of the write uses. */
const openAsync = promisify(open);

export interface FileLimits {
  maxFileBytes: number;
  readPageLines: number;
  readPageBytes: number;
}

export interface ReadResult {
  path: string;
  size: number;
  sha256: string;
  binary: boolean;
  total_lines?: number;
  start_line?: number;
  end_line?: number;
  content?: string;
  next_cursor?: string;
}

export interface WriteInput {
  path: string;
  /** Text, or with `encoding: 'base64'` the file's bytes as base64. */
  content: string;
  encoding?: 'base64';
  expected_sha256?: string;
}

/** What a change carries from its call: the paths its policy judged, and the action it belongs to. */
export interface ChangeCall {
  judgedPaths?: readonly string[];
  actionId?: string;
}

const shown = (relative: string) => relative || '(workspace root)';

/** What pages a text read: meaningless for a read of the whole file's bytes. */
const PAGING_INPUTS = ['offset_line', 'limit_lines', 'cursor'] as const;

/** A whole file as bytes (what an editor's file system needs, binary or not): base64 in `content`, no line paging. */
function whole(relative: string, buffer: Buffer): ReadResult {
  return { path: relative, size: buffer.length, sha256: sha256(buffer), binary: decodeText(buffer) === undefined, content: buffer.toString('base64') };
}

/**
 * A change acts on the path its policy judged, or not at all: between the check and the
 * walk, a directory on the way may have been swapped for a link to a path a rule denies.
 */
const actionOf = (call: ChangeCall) => (call.actionId === undefined ? {} : { actionId: call.actionId });

function assertJudged(relative: string, judged: readonly string[] | undefined): void {
  if (judged !== undefined && !judged.includes(relative)) {
    throw new CodeBuddyError('E_CONFLICT', `${shown(relative)} is not where the path led when the workspace's policy judged it (something on the way changed); nothing was written`, { field: 'path' });
  }
}

/**
 * Files of a workspace, always through handles walked from the workspace root
 * (workspace-handle.ts), so no symlink swapped in mid-call can lead a read, a write or a
 * delete outside. Writes are atomic (a temporary file renamed over the target, in the same
 * directory handle) and serialized per path, so no reader ever sees half a file and no
 * concurrent edit is lost.
 */
export class FileService {
  private readonly locks = new PathLock();
  /** Whose content a file holds, when this service wrote it for an action (see writerOf). */
  private readonly writes = new RecentWrites();

  /** `events` hears of every change once it is made (the watcher sees it too, before or after). */
  constructor(
    private readonly limits: FileLimits,
    private readonly events?: EventBus,
  ) {
    events?.subscribe('workspace.deleted', ({ workspaceId }) => this.writes.forgetWorkspace(workspaceId));
  }

  /**
   * The action whose write left exactly this content (by sha256) at a canonical path, when
   * this service made that write lately (in flight included). How a reader attributes a
   * change it heard of from the watcher, which knows no action: by content, not by which
   * event came first.
   */
  writerOf(workspace: Workspace, path: string, sha256: string): string | undefined {
    return this.writes.actionOf(workspace.id, path, sha256);
  }

  /** Where a path leads, as a name (for policies and previews): never used to reach the file. */
  resolve(workspace: Workspace, path: string): Promise<ResolvedPath> {
    return resolveInWorkspace(workspace.root, path);
  }

  async read(workspace: Workspace, input: { path: string; offset_line?: number; limit_lines?: number; cursor?: string; encoding?: 'base64' }): Promise<ReadResult> {
    if (input.encoding === 'base64') {
      const paging = PAGING_INPUTS.find((field) => input[field] !== undefined);
      if (paging !== undefined) throw new CodeBuddyError('E_INVALID_ARGUMENT', `${paging} pages lines; encoding base64 answers the whole file`, { field: paging });
    }
    const { fd, relative } = openWorkspaceFile(workspace.root, input.path);
    let buffer: Buffer;
    try {
      if (input.encoding === 'base64') return whole(relative, await this.readOpen(fd, relative));
      let startLine = input.offset_line ?? 1;
      if (input.cursor !== undefined) {
        const cursor = decodeCursor<{ path: string; line: number }>('file_read', input.cursor);
        if (cursor.path !== relative) throw new CodeBuddyError('E_INVALID_CURSOR', `that cursor belongs to ${cursor.path}`, { field: 'cursor' });
        startLine = cursor.line;
      }
      buffer = await this.readOpen(fd, relative);
      return this.page(relative, buffer, startLine, input.limit_lines);
    } finally {
      closeSync(fd);
    }
  }

  private page(relative: string, buffer: Buffer, startLine: number, limitLines: number | undefined): ReadResult {
    const text = decodeText(buffer);
    const base = { path: relative, size: buffer.length, sha256: sha256(buffer) };
    if (text === undefined) return { ...base, binary: true };

    const lines = splitLines(text);
    const limit = Math.min(limitLines ?? this.limits.readPageLines, this.limits.readPageLines);
    const first = Math.min(Math.max(startLine, 1), lines.length + 1);
    let end = first - 1;
    let bytes = 0;
    while (end < lines.length && end - first + 1 < limit) {
      bytes += Buffer.byteLength(lines[end]!) + 1;
      if (bytes > this.limits.readPageBytes && end >= first) break;
      end++;
    }
    const result: ReadResult = {
      ...base,
      binary: false,
      total_lines: lines.length,
      start_line: first,
      end_line: end,
      content: lines.slice(first - 1, end).join('\n'),
    };
    if (end < lines.length) result.next_cursor = encodeCursor('file_read', { path: relative, line: end + 1 });
    return result;
  }

  /**
   * A file as a reader that keeps a copy sees it (a language server's open document): its
   * stamp (identity, size and times from fstat on the walked handle) and, only when that
   * differs from `knownStamp`, its content. A regular file within maxFileBytes, or refused.
   */
  async readIfChanged(workspace: Workspace, path: string, knownStamp?: string): Promise<{ path: string; stamp: string; content?: Buffer }> {
    const { fd, relative } = openWorkspaceFile(workspace.root, path);
    try {
      const info = fstatSync(fd, { bigint: true });
      const stamp = `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
      if (stamp === knownStamp) return { path: relative, stamp };
      return { path: relative, stamp, content: await this.readOpen(fd, relative) };
    } finally {
      closeSync(fd);
    }
  }

  async write(workspace: Workspace, input: WriteInput, call: ChangeCall = {}): Promise<{ path: string; sha256: string; size: number; created: boolean }> {
    const data = this.bytesToWrite(input);
    const expected = input.expected_sha256?.toLowerCase();
    let target: Located;
    try {
      // Missing directories are made only for a write that needs no existing file.
      target = locateInWorkspace(workspace.root, input.path, { last: 'follow', ...(expected === undefined ? { createParents: this.ownerOf(workspace) } : {}) });
    } catch (error) {
      if (expected !== undefined && error instanceof CodeBuddyError && error.code === 'E_NOT_FOUND') throw this.changed((await this.resolve(workspace, input.path)).relative, undefined);
      throw error;
    }
    try {
      assertJudged(target.relative, call.judgedPaths);
      return await this.locks.run(this.lockKey(workspace, target.relative), async () => {
        const current = await this.currentState(target, expected !== undefined);
        if (expected !== undefined && current?.sha256 !== expected) throw this.changed(target.relative, current);
        const hash = await this.atomicWrite(workspace, target, data, current?.mode, call);
        this.announce(workspace, [{ path: target.relative, kind: current === undefined ? 'created' : 'changed' }], call);
        return { path: target.relative, sha256: hash, size: data.length, created: current === undefined };
      });
    } finally {
      closeSync(target.dir);
    }
  }

  private announce(workspace: Workspace, changes: FileChange[], call: ChangeCall): void {
    this.events?.publish('files.changed', { tenantId: workspace.tenantId, workspaceId: workspace.id, changes, origin: 'operation', ...actionOf(call) });
  }

  private changed(relative: string, current: { sha256?: string } | undefined): CodeBuddyError {
    return new CodeBuddyError(
      'E_CONFLICT',
      current ? `${relative} changed: its sha256 is ${current.sha256 ?? '(not a regular file)'}; read it again and retry` : `${relative} does not exist, but expected_sha256 was given`,
      { field: 'expected_sha256', actual_sha256: current?.sha256 ?? null },
    );
  }

  /** Exact replacements applied in order, all or nothing. */
  async edit(workspace: Workspace, input: { path: string; edits: Edit[] }, call: ChangeCall = {}): Promise<{ path: string; sha256: string; replacements: number; first_changed_line: number }> {
    const target = locateInWorkspace(workspace.root, input.path, { last: 'follow' });
    try {
      assertJudged(target.relative, call.judgedPaths);
      return await this.locks.run(this.lockKey(workspace, target.relative), async () => {
        const { buffer, info } = await this.readEntry(target);
        const text = decodeText(buffer);
        if (text === undefined) throw new CodeBuddyError('E_NOT_A_FILE', `${target.relative} is binary; use file_write`, { field: 'path' });
        const plan = planEdits(target.relative, text, input.edits);
        const data = Buffer.from(plan.content, 'utf8');
        this.assertSize(data.length);
        const hash = await this.atomicWrite(workspace, target, data, info.mode, call);
        this.announce(workspace, [{ path: target.relative, kind: 'changed' }], call);
        return { path: target.relative, sha256: hash, replacements: plan.replacements, first_changed_line: plan.firstChangedLine };
      });
    } finally {
      closeSync(target.dir);
    }
  }

  /**
   * What is at a path now, for previews and stale checks: its text (undefined for binary),
   * its sha256, or nothing when there is no file. Anything but a regular file (a FIFO
   * included) exists without a hash and is never opened.
   */
  async snapshot(workspace: Workspace, path: string): Promise<{ path: string; exists: boolean; sha256: string | null; text?: string }> {
    let target: Located;
    try {
      target = locateInWorkspace(workspace.root, path, { last: 'follow' });
    } catch (error) {
      // A missing parent (or a file where a directory would be): nothing there.
      if (error instanceof CodeBuddyError && (error.code === 'E_NOT_FOUND' || error.code === 'E_NOT_A_DIRECTORY')) {
        return { path: (await this.resolve(workspace, path)).relative, exists: false, sha256: null };
      }
      throw error;
    }
    try {
      if (!target.info) return { path: target.relative, exists: false, sha256: null };
      if (!target.info.isFile()) return { path: target.relative, exists: true, sha256: null };
      const { buffer } = await this.readEntry(target);
      const text = decodeText(buffer);
      return text === undefined ? { path: target.relative, exists: true, sha256: sha256(buffer) } : { path: target.relative, exists: true, sha256: sha256(buffer), text };
    } finally {
      closeSync(target.dir);
    }
  }

  /**
   * Several files changed as one (a refactor's plan): all or nothing, each file checked
   * against the sha256 it was planned from (else E_STALE_PROPOSAL), under the locks of every
   * path, so no file_write or edit interleaves. See change-set.ts for how it stays atomic.
   */
  async applyChangeSet(
    workspace: Workspace,
    input: { entries: readonly ChangeSetEntry[]; moves?: readonly { from: string; to: string }[]; emptiedDirectories?: readonly string[] },
    call: ChangeCall = {},
  ): Promise<void> {
    for (const entry of input.entries) assertJudged(entry.path, call.judgedPaths);
    await this.locks.runAll(
      input.entries.map((entry) => this.lockKey(workspace, entry.path)),
      async () => {
        const forget = input.entries.flatMap((entry) => (entry.content === null ? [] : [this.recordWrite(workspace, entry.path, sha256(entry.content), call)]));
        try {
          commitChangeSet(workspace.root, input.entries, { maxFileBytes: this.limits.maxFileBytes, ...this.ownerOf(workspace), ...(input.emptiedDirectories ? { emptiedDirectories: input.emptiedDirectories } : {}) });
        } catch (error) {
          for (const undo of forget) undo();
          throw error;
        }
      },
    );
    const kind = (entry: ChangeSetEntry): FileChange['kind'] => (entry.content === null ? 'deleted' : entry.base === null ? 'created' : 'changed');
    this.announce(workspace, input.entries.map((entry) => ({ path: entry.path, kind: kind(entry) })), call);
    for (const move of input.moves ?? []) this.events?.publish('files.moved', { tenantId: workspace.tenantId, workspaceId: workspace.id, ...move, ...actionOf(call) });
  }

  async move(workspace: Workspace, input: { from: string; to: string; overwrite?: boolean }, call: ChangeCall = {}): Promise<{ from: string; to: string }> {
    const source = locateInWorkspace(workspace.root, input.from, { last: 'entry' });
    let destination: Located | undefined;
    try {
      if (source.relative === '') throw new CodeBuddyError('E_INVALID_ARGUMENT', 'the workspace root cannot be moved', { field: 'from' });
      if (!source.info) throw notFound(source.relative);
      // Only once the source is known to exist may the destination's directories be made.
      destination = locateInWorkspace(workspace.root, input.to, { last: 'entry', createParents: this.ownerOf(workspace) });
      const to = destination;
      if (to.relative === source.relative) return { from: source.relative, to: to.relative };
      if (to.relative.startsWith(`${source.relative}/`)) throw new CodeBuddyError('E_INVALID_ARGUMENT', 'cannot move a directory into itself', { field: 'to' });
      return await this.locks.runAll([this.lockKey(workspace, source.relative), this.lockKey(workspace, to.relative)], async () => {
        lstatOrThrow(source);
        const existing = lstatOrUndefined(to);
        if (existing && !input.overwrite) throw new CodeBuddyError('E_CONFLICT', `${shown(to.relative)} exists; pass overwrite: true to replace it`, { field: 'to' });
        if (existing?.isDirectory()) throw new CodeBuddyError('E_CONFLICT', `${shown(to.relative)} is a directory and is never overwritten`, { field: 'to' });
        try {
          renameSync(at(source.dir, source.name), at(to.dir, to.name));
        } catch (error) {
          throw fsError(error, to.relative);
        }
        this.announce(workspace, [{ path: source.relative, kind: 'deleted' }, { path: to.relative, kind: existing ? 'changed' : 'created' }], call);
        this.events?.publish('files.moved', { tenantId: workspace.tenantId, workspaceId: workspace.id, from: source.relative, to: to.relative, ...actionOf(call) });
        return { from: source.relative, to: to.relative };
      });
    } finally {
      closeSync(source.dir);
      if (destination) closeSync(destination.dir);
    }
  }

  async delete(workspace: Workspace, input: { path: string; recursive?: boolean }, call: ChangeCall = {}): Promise<{ path: string; type: 'file' | 'directory' | 'symlink' }> {
    const target = locateInWorkspace(workspace.root, input.path, { last: 'entry' });
    try {
      if (target.relative === '') throw new CodeBuddyError('E_INVALID_ARGUMENT', 'the workspace root cannot be deleted; use workspace_delete', { field: 'path' });
      const deleted = await this.locks.run(this.lockKey(workspace, target.relative), async () => {
        const info = lstatOrThrow(target);
        if (!info.isDirectory()) {
          try {
            unlinkSync(at(target.dir, target.name));
          } catch (error) {
            throw fsError(error, target.relative);
          }
          return { path: target.relative, type: info.isSymbolicLink() ? ('symlink' as const) : ('file' as const) };
        }
        if (input.recursive) await removeTree(target.dir, target.name, target.relative);
        else {
          try {
            rmdirSync(at(target.dir, target.name));
          } catch (error) {
            if (['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) {
              throw new CodeBuddyError('E_CONFLICT', `${target.relative} is a directory that is not empty; pass recursive: true`, { field: 'recursive' });
            }
            throw fsError(error, target.relative);
          }
        }
        return { path: target.relative, type: 'directory' as const };
      });
      this.announce(workspace, [{ path: deleted.path, kind: 'deleted' }], call);
      return deleted;
    } finally {
      closeSync(target.dir);
    }
  }

  async stat(workspace: Workspace, input: { path: string }) {
    const target = locateInWorkspace(workspace.root, input.path, { last: 'entry' });
    try {
      const info = target.info;
      if (!info) throw notFound(target.relative);
      const type = info.isDirectory() ? 'directory' : info.isFile() ? 'file' : info.isSymbolicLink() ? 'symlink' : 'other';
      const result: { path: string; type: typeof type; size: number; modified: string; mode: string; sha256?: string } = {
        path: target.relative,
        type,
        size: info.size,
        modified: info.mtime.toISOString(),
        mode: (info.mode & 0o7777).toString(8).padStart(4, '0'),
      };
      if (type === 'file' && info.size <= this.limits.maxFileBytes) result.sha256 = sha256((await this.readEntry(target)).buffer);
      return result;
    } finally {
      closeSync(target.dir);
    }
  }

  /**
   * The bytes a write would leave: its content as UTF-8, or decoded from base64 (sized
   * before decoding, refused if it is not base64). Previews use it too, so a held write
   * shows, and later writes, exactly these bytes.
   */
  bytesToWrite(input: Pick<WriteInput, 'content' | 'encoding'>): Buffer {
    if (input.encoding !== 'base64') {
      const data = Buffer.from(input.content, 'utf8');
      this.assertSize(data.length);
      return data;
    }
    this.assertSize(base64ByteLength(input.content));
    return decodeBase64(input.content, 'content');
  }

  private assertSize(size: number): void {
    if (size > this.limits.maxFileBytes) {
      throw new CodeBuddyError('E_TOO_LARGE', `content is ${size} bytes; the limit is ${this.limits.maxFileBytes} (CODEBUDDY_MAX_FILE_BYTES)`, { field: 'content' });
    }
  }

  private lockKey(workspace: Workspace, relative: string): string {
    return `${workspace.root}\0${relative}`;
  }

  private ownerOf(workspace: Workspace): { owner?: { uid: number; gid: number } } {
    return workspace.owner ? { owner: workspace.owner } : {};
  }

  /**
   * The content of an open file, checked on its handle: a regular file (a directory, a FIFO,
   * a device are refused, never read) no larger than maxFileBytes by its fstat, and never
   * more than that read even if it grows meanwhile.
   */
  private async readOpen(fd: number, relative: string): Promise<Buffer> {
    const info = fstatSync(fd);
    if (info.isDirectory()) throw new CodeBuddyError('E_NOT_A_FILE', `${shown(relative)} is a directory; use file_list`, { field: 'path' });
    if (!info.isFile()) throw new CodeBuddyError('E_NOT_A_FILE', `${relative} is not a regular file`, { field: 'path' });
    if (info.size > this.limits.maxFileBytes) {
      throw new CodeBuddyError('E_TOO_LARGE', `${relative} is ${info.size} bytes; the limit is ${this.limits.maxFileBytes}; use file_search to find what you need`, { field: 'path' });
    }
    return readOpenFile(fd, info.size);
  }

  /** Reads the located entry itself (a symlink swapped in there since is refused, not followed). */
  private async readEntry(target: Located): Promise<{ buffer: Buffer; info: Stats }> {
    let fd: number;
    try {
      fd = openSync(target.name === '' ? at(target.dir) : at(target.dir, target.name), target.name === '' ? READ_FILE & ~O_NOFOLLOW : READ_FILE);
    } catch (error) {
      throw fsError(error, target.relative);
    }
    try {
      const buffer = await this.readOpen(fd, target.relative);
      return { buffer, info: fstatSync(fd) };
    } finally {
      closeSync(fd);
    }
  }

  /** What is at the target now: its mode, and its hash only when a caller must compare it. */
  private async currentState(target: Located, withHash: boolean): Promise<{ sha256?: string; mode: number } | undefined> {
    const info = lstatOrUndefined(target);
    if (!info) return undefined;
    if (info.isDirectory()) throw new CodeBuddyError('E_NOT_A_FILE', `${shown(target.relative)} is a directory`, { field: 'path' });
    if (!info.isFile()) return { mode: 0o644 };
    return withHash ? { sha256: sha256((await this.readEntry(target)).buffer), mode: info.mode } : { mode: info.mode };
  }

  /** A write of an action about to land, known by its content from now on; returns how to forget it if it fails. */
  private recordWrite(workspace: Workspace, path: string, hash: string, call: ChangeCall): () => void {
    return call.actionId === undefined ? () => {} : this.writes.begin(workspace.id, path, hash, call.actionId);
  }

  /**
   * A temporary file created beside the target in the target's directory handle (O_EXCL,
   * O_NOFOLLOW: never through anything already there), given to the workspace's owner,
   * then renamed over the target within that same directory: readers see the old file or
   * the new one, never a mix, and nothing can redirect either step. Returns the sha256 written.
   *
   * Creating the temporary and the rename run on the thread pool: creating a file in a busy
   * directory waits on the file system's journal, and replacing a file makes ext4 flush the
   * new one's data and free the old inode, milliseconds during which every sync client would
   * otherwise wait. The caller keeps `target.dir` open until this resolves (the rename goes through
   * it), and holds the path's lock. Because the watcher may now report the change before
   * this write announces it, the write is recorded by content first (writerOf).
   */
  private async atomicWrite(workspace: Workspace, target: Located, data: Buffer, mode: number | undefined, call: ChangeCall): Promise<string> {
    const hash = sha256(data);
    const temporaryPath = at(target.dir, scratchName(target.name, 'tmp'));
    const forget = this.recordWrite(workspace, target.relative, hash, call);
    try {
      const fd = await openAsync(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode === undefined ? 0o644 : mode & 0o7777);
      try {
        if (workspace.owner) fchownSync(fd, workspace.owner.uid, workspace.owner.gid);
        await writeOpenFile(fd, data);
      } finally {
        closeSync(fd);
      }
      await rename(temporaryPath, at(target.dir, target.name));
      return hash;
    } catch (error) {
      forget();
      try {
        unlinkSync(temporaryPath);
      } catch {
        // never created, or already renamed
      }
      throw fsError(error, target.relative);
    }
  }
}

/** The entry now (not as the walk saw it); the root is its own handle. */
function lstatNow(entry: Located): Stats {
  return entry.name === '' ? fstatSync(entry.dir) : lstatSync(at(entry.dir, entry.name));
}

function lstatOrUndefined(entry: Located): Stats | undefined {
  try {
    return lstatNow(entry);
  } catch {
    return undefined;
  }
}

function lstatOrThrow(entry: Located): Stats {
  try {
    return lstatNow(entry);
  } catch (error) {
    throw fsError(error, entry.relative);
  }
}
