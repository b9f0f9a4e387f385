import * as vscode from 'vscode';
import { baseName, SCHEME, uriPartsOf, workspacePathOf, type WorkspacePath } from './codebuddy-uri';
import { fileSystemErrorOf } from './file-system-errors';
import { RestError, type PendingApproval, type RestClient } from './rest-client';
import { StatPoller, type Signature } from './stat-poller';
import { statSignature, WorkspaceFiles, type FileStat } from './workspace-files';

/** Watched files are polled this often (see StatPoller for why polling). */
const POLL_MS = 5_000;

/**
 * `codebuddy://<workspace>/<path>`: a remote workspace opened as a folder, over the REST
 * file operations. Writes go through the server's policy: one held for approval resolves (the
 * write is pending, not failed) and the user is told, with the action to decide.
 */
export class CodeBuddyFileSystem implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;
  private readonly poller: StatPoller;

  constructor(
    private readonly rest: () => RestClient | undefined,
    private readonly onHeld: (what: string, pending: PendingApproval) => void,
  ) {
    this.poller = new StatPoller({
      intervalMs: POLL_MS,
      signature: (key) => this.signature(vscode.Uri.parse(key)),
      onChanges: (changes) =>
        this.changed.fire(
          changes.map(({ key, type }) => ({
            uri: vscode.Uri.parse(key),
            type: type === 'created' ? vscode.FileChangeType.Created : type === 'deleted' ? vscode.FileChangeType.Deleted : vscode.FileChangeType.Changed,
          })),
        ),
    });
  }

  /**
   * Watches the URI itself: a recursive watch of a folder sees its direct entries come and go,
   * not deeper changes (documents open in the editor hear of those from the facade: `announce`).
   */
  watch(uri: vscode.Uri): vscode.Disposable {
    const { stop } = this.poller.watch(uri.toString());
    return new vscode.Disposable(stop);
  }

  stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    return this.run(uri, async (files, path) => fileStatOf(await files.stat(path)));
  }

  readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    return this.run(uri, async (files, path) => (await files.list(path)).map((entry): [string, vscode.FileType] => [baseName(entry.path), fileTypeOf(entry.type)]));
  }

  readFile(uri: vscode.Uri): Promise<Uint8Array> {
    return this.run(uri, (files, path) => files.read(path));
  }

  writeFile(uri: vscode.Uri, content: Uint8Array, options: { create: boolean; overwrite: boolean }): Promise<void> {
    return this.run(uri, async (files, path) => {
      const exists = await files.stat(path).then(
        () => true,
        (error: unknown) => {
          if (error instanceof RestError && error.code === 'E_NOT_FOUND') return false;
          throw error;
        },
      );
      if (exists && !options.overwrite) throw vscode.FileSystemError.FileExists(uri);
      if (!exists && !options.create) throw vscode.FileSystemError.FileNotFound(uri);
      const outcome = await files.write(path, content);
      if (outcome.held) this.onHeld(`Saving ${path}`, outcome.pending);
      else this.changed.fire([{ uri, type: exists ? vscode.FileChangeType.Changed : vscode.FileChangeType.Created }]);
    });
  }

  delete(uri: vscode.Uri, options: { recursive: boolean }): Promise<void> {
    return this.run(uri, async (files, path) => {
      const outcome = await files.delete(path, options.recursive);
      if (outcome.held) this.onHeld(`Deleting ${path}`, outcome.pending);
      else this.changed.fire([{ uri, type: vscode.FileChangeType.Deleted }]);
    });
  }

  rename(from: vscode.Uri, to: vscode.Uri, options: { overwrite: boolean }): Promise<void> {
    return this.run(from, async (files, path) => {
      const target = workspacePathOf(to);
      if (target.workspace !== files.workspace) throw vscode.FileSystemError.NoPermissions(`${to.toString()}: files move within one workspace, not between workspaces`);
      const outcome = await files.move(path, target.path, options.overwrite);
      if (outcome.held) this.onHeld(`Moving ${path} to ${target.path}`, outcome.pending);
      else
        this.changed.fire([
          { uri: from, type: vscode.FileChangeType.Deleted },
          { uri: to, type: vscode.FileChangeType.Created },
        ]);
    });
  }

  /**
   * A change the server told of (the facade's `codebuddy/fileChanged` for a document open in
   * the editor): VS Code reads the file again at once, without waiting for a poll.
   */
  announce(uri: vscode.Uri, deleted: boolean): void {
    if (uri.scheme === SCHEME) this.changed.fire([{ uri, type: deleted ? vscode.FileChangeType.Deleted : vscode.FileChangeType.Changed }]);
  }

  /** No operation makes an empty directory (file_write makes the directories a file needs): refused, saying so. */
  createDirectory(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(
      `${uri.toString()}: CodeBuddy has no operation that creates an empty folder; create a file in it instead (the server makes the folders a file needs)`,
    );
  }

  dispose(): void {
    this.poller.dispose();
    this.changed.dispose();
  }

  private signature(uri: vscode.Uri): Promise<Signature> {
    const rest = this.rest();
    if (!rest) throw new Error('not connected');
    const location = workspacePathOf(uri);
    return statSignature(new WorkspaceFiles(rest, location.workspace), location.path);
  }

  /** Runs a file call for a URI, every failure as the FileSystemError VS Code understands. */
  private async run<T>(uri: vscode.Uri, call: (files: WorkspaceFiles, path: string) => Promise<T>): Promise<T> {
    let location: WorkspacePath;
    try {
      location = workspacePathOf(uri);
    } catch (error) {
      throw vscode.FileSystemError.FileNotFound(error instanceof Error ? error.message : uri);
    }
    const rest = this.rest();
    if (!rest) throw vscode.FileSystemError.Unavailable('CodeBuddy: set codebuddy.serverUrl and a token (CodeBuddy: Set Token) to open remote workspaces');
    try {
      return await call(new WorkspaceFiles(rest, location.workspace), location.path);
    } catch (error) {
      if (error instanceof vscode.FileSystemError) throw error;
      const { kind, message } = fileSystemErrorOf(error);
      throw kind === 'Unknown' ? new vscode.FileSystemError(message) : vscode.FileSystemError[kind](message);
    }
  }
}

/** The root of a remote workspace, to open as a folder. */
export function workspaceRootUri(workspace: string): vscode.Uri {
  return vscode.Uri.from(uriPartsOf({ workspace, path: '' }));
}

function fileTypeOf(type: FileStat['type']): vscode.FileType {
  // file_stat and file_list describe a link itself (lstat): where it leads is not known here.
  return type === 'file' ? vscode.FileType.File : type === 'directory' ? vscode.FileType.Directory : type === 'symlink' ? vscode.FileType.SymbolicLink : vscode.FileType.Unknown;
}

function fileStatOf(stat: FileStat): vscode.FileStat {
  const mtime = Date.parse(stat.modified);
  // Owner without write permission: VS Code opens the file read-only.
  const readonly = (Number.parseInt(stat.mode, 8) & 0o200) === 0;
  return { type: fileTypeOf(stat.type), size: stat.size, mtime, ctime: mtime, ...(readonly ? { permissions: vscode.FilePermission.Readonly } : {}) };
}
