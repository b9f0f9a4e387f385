import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { chown, lstat, mkdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { CodeBuddyError } from '../core/errors.js';
import type { Workspace } from '../workspaces/workspace.js';
import { planEdits, type Edit } from './edit-plan.js';
import { PathLock } from './path-lock.js';
import { resolveEntryInWorkspace, resolveInWorkspace, type ResolvedPath } from './path-resolver.js';
import { decodeText, sha256, splitLines } from './text-content.js';

export type { Edit };

const SYNC_READ_LIMIT = 256 * 1024;

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

/** Errors from the file system, in the words (and codes) an agent can act on. */
function fsError(error: unknown, relative: string): never {
  const code = (error as NodeJS.ErrnoException).code;
  const shown = relative === '' ? '(workspace root)' : relative;
  switch (code) {
    case 'ENOENT':
      throw new CodeBuddyError('E_NOT_FOUND', `${shown} not found`, { field: 'path' });
    case 'EISDIR':
      throw new CodeBuddyError('E_NOT_A_FILE', `${shown} is a directory`, { field: 'path' });
    case 'ENOTDIR':
      throw new CodeBuddyError('E_NOT_A_DIRECTORY', `a parent of ${shown} is a file`, { field: 'path' });
    case 'EEXIST':
    case 'ENOTEMPTY':
      throw new CodeBuddyError('E_CONFLICT', `${shown} exists`, { field: 'path' });
    case 'ENOSPC':
    case 'EDQUOT':
      throw new CodeBuddyError('E_DISK_FULL', `no space left writing ${shown}: the workspace is at its disk limit (limits.disk_mb, at most the server's workspaceDiskBytes; workspace_get shows it); nothing was written, delete files to make room`, { field: 'path' });
    case 'ENAMETOOLONG':
      throw new CodeBuddyError('E_INVALID_ARGUMENT', 'path is too long', { field: 'path' });
    default:
      throw error;
  }
}

/**
 * Files of a workspace, always through confined paths. Writes are atomic (a temporary
 * file renamed over the target) and serialized per path, so no reader ever sees half a
 * file and no concurrent edit is lost.
 */
export class FileService {
  private readonly locks = new PathLock();

  constructor(private readonly limits: FileLimits) {}

  resolve(workspace: Workspace, path: string): Promise<ResolvedPath> {
    return resolveInWorkspace(workspace.root, path);
  }

  async read(workspace: Workspace, input: { path: string; offset_line?: number; limit_lines?: number; cursor?: string }): Promise<ReadResult> {
    const target = await this.resolve(workspace, input.path);
    let startLine = input.offset_line ?? 1;
    if (input.cursor !== undefined) {
      const cursor = decodeCursor<{ path: string; line: number }>('file_read', input.cursor);
      if (cursor.path !== target.relative) throw new CodeBuddyError('E_INVALID_CURSOR', `that cursor belongs to ${cursor.path}`, { field: 'cursor' });
      startLine = cursor.line;
    }
    const buffer = await this.readBuffer(target);
    const text = decodeText(buffer);
    const base = { path: target.relative, size: buffer.length, sha256: sha256(buffer) };
    if (text === undefined) return { ...base, binary: true };

    const lines = splitLines(text);
    const limit = Math.min(input.limit_lines ?? this.limits.readPageLines, this.limits.readPageLines);
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
    if (end < lines.length) result.next_cursor = encodeCursor('file_read', { path: target.relative, line: end + 1 });
    return result;
  }

  async write(workspace: Workspace, input: { path: string; content: string; expected_sha256?: string }): Promise<{ path: string; sha256: string; size: number; created: boolean }> {
    const target = await this.resolve(workspace, input.path);
    const data = Buffer.from(input.content, 'utf8');
    this.assertSize(data.length);
    return this.locks.run(target.absolute, async () => {
      const current = await this.currentState(target, input.expected_sha256 !== undefined);
      if (input.expected_sha256 !== undefined && current?.sha256 !== input.expected_sha256.toLowerCase()) {
        throw new CodeBuddyError(
          'E_CONFLICT',
          current ? `${target.relative} changed: its sha256 is ${current.sha256 ?? '(not a regular file)'}; read it again and retry` : `${target.relative} does not exist, but expected_sha256 was given`,
          { field: 'expected_sha256', actual_sha256: current?.sha256 ?? null },
        );
      }
      await this.atomicWrite(workspace, target, data, current?.mode);
      return { path: target.relative, sha256: sha256(data), size: data.length, created: current === undefined };
    });
  }

  /** Exact replacements applied in order, all or nothing. */
  async edit(workspace: Workspace, input: { path: string; edits: Edit[] }): Promise<{ path: string; sha256: string; replacements: number; first_changed_line: number }> {
    const target = await this.resolve(workspace, input.path);
    return this.locks.run(target.absolute, async () => {
      const plan = planEdits(target.relative, await this.readText(target), input.edits);
      const data = Buffer.from(plan.content, 'utf8');
      this.assertSize(data.length);
      const mode = (await stat(target.absolute)).mode;
      await this.atomicWrite(workspace, target, data, mode);
      return { path: target.relative, sha256: sha256(data), replacements: plan.replacements, first_changed_line: plan.firstChangedLine };
    });
  }

  /**
   * What is at a path now, for previews and stale checks: its text (undefined for binary),
   * its sha256, or nothing when there is no file.
   */
  async snapshot(workspace: Workspace, path: string): Promise<{ path: string; exists: boolean; sha256: string | null; text?: string }> {
    const target = await this.resolve(workspace, path);
    const info = await lstat(target.absolute).catch(() => undefined);
    if (!info) return { path: target.relative, exists: false, sha256: null };
    if (!info.isFile()) return { path: target.relative, exists: true, sha256: null };
    const buffer = await this.readBuffer(target);
    const text = decodeText(buffer);
    return text === undefined ? { path: target.relative, exists: true, sha256: sha256(buffer) } : { path: target.relative, exists: true, sha256: sha256(buffer), text };
  }

  /** The text of a file, for edits: binary files are refused. */
  private async readText(target: ResolvedPath): Promise<string> {
    const text = decodeText(await this.readBuffer(target));
    if (text === undefined) throw new CodeBuddyError('E_NOT_A_FILE', `${target.relative} is binary; use file_write`, { field: 'path' });
    return text;
  }

  async move(workspace: Workspace, input: { from: string; to: string; overwrite?: boolean }): Promise<{ from: string; to: string }> {
    const source = await resolveEntryInWorkspace(workspace.root, input.from);
    const destination = await resolveEntryInWorkspace(workspace.root, input.to);
    if (source.relative === '') throw new CodeBuddyError('E_INVALID_ARGUMENT', 'the workspace root cannot be moved', { field: 'from' });
    if (destination.relative === source.relative) return { from: source.relative, to: destination.relative };
    if (destination.relative.startsWith(`${source.relative}/`)) throw new CodeBuddyError('E_INVALID_ARGUMENT', 'cannot move a directory into itself', { field: 'to' });
    return this.locks.runAll([source.absolute, destination.absolute], async () => {
      await lstat(source.absolute).catch((error: unknown) => fsError(error, source.relative));
      const existing = await lstat(destination.absolute).catch(() => undefined);
      if (existing && !input.overwrite) throw new CodeBuddyError('E_CONFLICT', `${destination.relative} exists; pass overwrite: true to replace it`, { field: 'to' });
      if (existing?.isDirectory()) throw new CodeBuddyError('E_CONFLICT', `${destination.relative} is a directory and is never overwritten`, { field: 'to' });
      await this.ensureDirectory(workspace, dirname(destination.absolute)).catch((error: unknown) => fsError(error, destination.relative));
      await rename(source.absolute, destination.absolute).catch((error: unknown) => fsError(error, destination.relative));
      return { from: source.relative, to: destination.relative };
    });
  }

  async delete(workspace: Workspace, input: { path: string; recursive?: boolean }): Promise<{ path: string; type: 'file' | 'directory' | 'symlink' }> {
    const target = await resolveEntryInWorkspace(workspace.root, input.path);
    if (target.relative === '') throw new CodeBuddyError('E_INVALID_ARGUMENT', 'the workspace root cannot be deleted; use workspace_delete', { field: 'path' });
    return this.locks.run(target.absolute, async () => {
      const info = await lstat(target.absolute).catch((error: unknown) => fsError(error, target.relative));
      if (info.isDirectory()) {
        if (!input.recursive) {
          await rm(target.absolute, { recursive: false }).catch((error: unknown) => {
            if (['ENOTEMPTY', 'EEXIST', 'ERR_FS_EISDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) {
              throw new CodeBuddyError('E_CONFLICT', `${target.relative} is a directory that is not empty; pass recursive: true`, { field: 'recursive' });
            }
            fsError(error, target.relative);
          });
          return { path: target.relative, type: 'directory' as const };
        }
        await rm(target.absolute, { recursive: true, force: true });
        return { path: target.relative, type: 'directory' as const };
      }
      await unlink(target.absolute).catch((error: unknown) => fsError(error, target.relative));
      return { path: target.relative, type: info.isSymbolicLink() ? ('symlink' as const) : ('file' as const) };
    });
  }

  async stat(workspace: Workspace, input: { path: string }) {
    const target = await resolveEntryInWorkspace(workspace.root, input.path);
    const info = await lstat(target.absolute).catch((error: unknown) => fsError(error, target.relative));
    const type = info.isDirectory() ? 'directory' : info.isFile() ? 'file' : info.isSymbolicLink() ? 'symlink' : 'other';
    const result: { path: string; type: typeof type; size: number; modified: string; mode: string; sha256?: string } = {
      path: target.relative,
      type,
      size: info.size,
      modified: info.mtime.toISOString(),
      mode: (info.mode & 0o7777).toString(8).padStart(4, '0'),
    };
    if (type === 'file' && info.size <= this.limits.maxFileBytes) result.sha256 = sha256(await readFile(target.absolute));
    return result;
  }

  private assertSize(size: number): void {
    if (size > this.limits.maxFileBytes) {
      throw new CodeBuddyError('E_TOO_LARGE', `content is ${size} bytes; the limit is ${this.limits.maxFileBytes} (CODEBUDDY_MAX_FILE_BYTES)`, { field: 'content' });
    }
  }

  private async readBuffer(target: ResolvedPath): Promise<Buffer> {
    let info;
    try {
      info = statSync(target.absolute);
    } catch (error) {
      fsError(error, target.relative);
    }
    if (info.isDirectory()) throw new CodeBuddyError('E_NOT_A_FILE', `${target.relative || '(workspace root)'} is a directory; use file_list`, { field: 'path' });
    if (!info.isFile()) throw new CodeBuddyError('E_NOT_A_FILE', `${target.relative} is not a regular file`, { field: 'path' });
    if (info.size > this.limits.maxFileBytes) {
      throw new CodeBuddyError('E_TOO_LARGE', `${target.relative} is ${info.size} bytes; the limit is ${this.limits.maxFileBytes}; use file_search to find what you need`, { field: 'path' });
    }
    try {
      // Source files are small: reading them synchronously costs microseconds, where the promise
      // API costs four thread-pool round trips. Large files stay off the event loop.
      return info.size <= SYNC_READ_LIMIT ? readFileSync(target.absolute) : await readFile(target.absolute);
    } catch (error) {
      fsError(error, target.relative);
    }
  }

  /** What is at the target now: its mode, and its hash only when a caller must compare it. */
  private async currentState(target: ResolvedPath, withHash: boolean): Promise<{ sha256?: string; mode: number } | undefined> {
    const info = await lstat(target.absolute).catch(() => undefined);
    if (!info) return undefined;
    if (info.isDirectory()) throw new CodeBuddyError('E_NOT_A_FILE', `${target.relative || '(workspace root)'} is a directory`, { field: 'path' });
    if (!info.isFile()) return { mode: 0o644 };
    return withHash ? { sha256: sha256(await readFile(target.absolute)), mode: info.mode } : { mode: info.mode };
  }

  /**
   * mkdir -p, with every directory it makes given to the workspace's owner (a Docker
   * workspace's commands run as that user and must be able to use them).
   */
  private async ensureDirectory(workspace: Workspace, directory: string): Promise<void> {
    const first = await mkdir(directory, { recursive: true });
    if (!workspace.owner || first === undefined) return;
    const made = relative(dirname(first), directory).split(sep);
    for (let depth = 1; depth <= made.length; depth++) await chown(join(dirname(first), ...made.slice(0, depth)), workspace.owner.uid, workspace.owner.gid);
  }

  /** Temp file beside the target, then rename: readers see the old file or the new one, never a mix. */
  private async atomicWrite(workspace: Workspace, target: ResolvedPath, data: Buffer, mode: number | undefined): Promise<void> {
    const directory = dirname(target.absolute);
    await this.ensureDirectory(workspace, directory).catch((error: unknown) => fsError(error, target.relative));
    const temporary = join(directory, `.${basename(target.absolute)}.${randomBytes(6).toString('hex')}.cb-tmp`);
    try {
      await writeFile(temporary, data, { flag: 'wx', mode: mode === undefined ? 0o644 : mode & 0o7777 });
      if (workspace.owner) await chown(temporary, workspace.owner.uid, workspace.owner.gid);
      await rename(temporary, target.absolute);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      fsError(error, target.relative);
    }
  }
}
