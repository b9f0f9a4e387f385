import { operationPath } from './codebuddy-uri';
import { RestError, type Outcome, type RestClient } from './rest-client';
import type { Signature } from './stat-poller';

/*
 * The file operations' outputs as the server's schemas define them (src/operations/file-operations.ts):
 * protocol facts, copied, not imported, since the extension ships alone.
 */
export interface FileStat {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  size: number;
  modified: string;
  mode: string;
  sha256?: string;
}

export interface ListedEntry {
  path: string;
  type: FileStat['type'];
  size?: number;
}

export interface WriteResult {
  path: string;
  sha256: string;
  size: number;
  created: boolean;
}

/** A directory listed in full by following cursors, up to this many pages (a listing page is the server's page size). */
const MAX_LIST_PAGES = 50;

/** One workspace's files over REST. Paths are workspace-relative; `''` is the root. */
export class WorkspaceFiles {
  constructor(
    private readonly rest: RestClient,
    readonly workspace: string,
  ) {}

  async stat(path: string): Promise<FileStat> {
    return this.done('file_stat', await this.rest.call<FileStat>('file_stat', { workspace: this.workspace, path: operationPath(path) }));
  }

  /** The direct children of a directory (the server leaves out what .gitignore ignores). */
  async list(path: string): Promise<ListedEntry[]> {
    const entries: ListedEntry[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const input = { workspace: this.workspace, path: operationPath(path), depth: 1, ...(cursor === undefined ? {} : { cursor }) };
      const output = this.done('file_list', await this.rest.call<{ entries: ListedEntry[]; next_cursor?: string }>('file_list', input));
      entries.push(...output.entries);
      cursor = output.next_cursor;
      if (cursor === undefined) return entries;
    }
    throw new RestError(413, 'E_TOO_LARGE', `${path || '.'} has more entries than ${MAX_LIST_PAGES} pages; open a subfolder instead`);
  }

  /** The whole file, bytes for bytes (base64 on the wire). */
  async read(path: string): Promise<Uint8Array> {
    const output = this.done('file_read', await this.rest.call<{ content?: string }>('file_read', { workspace: this.workspace, path, encoding: 'base64' }));
    if (typeof output.content !== 'string') throw new RestError(200, 'E_BAD_RESPONSE', `file_read ${path}: no base64 content in the answer`);
    return new Uint8Array(Buffer.from(output.content, 'base64'));
  }

  write(path: string, content: Uint8Array): Promise<Outcome<WriteResult>> {
    return this.rest.call<WriteResult>('file_write', { workspace: this.workspace, path, content: Buffer.from(content).toString('base64'), encoding: 'base64' });
  }

  delete(path: string, recursive: boolean): Promise<Outcome<{ path: string; type: string }>> {
    return this.rest.call('file_delete', { workspace: this.workspace, path, recursive });
  }

  move(from: string, to: string, overwrite: boolean): Promise<Outcome<{ from: string; to: string }>> {
    return this.rest.call('file_move', { workspace: this.workspace, from, to, overwrite });
  }

  /** Reads are never held: a held answer to one is the server misbehaving. */
  private done<O>(operation: string, outcome: Outcome<O>): O {
    if (outcome.held) throw new RestError(202, 'E_BAD_RESPONSE', `${operation} was held for approval, which a read never is`);
    return outcome.output;
  }
}

/** What a watcher compares: a path's stat as one string, or undefined when nothing is there. */
export async function statSignature(files: WorkspaceFiles, path: string): Promise<Signature> {
  try {
    const stat = await files.stat(path);
    return `${stat.type}:${stat.size}:${stat.modified}:${stat.sha256 ?? ''}`;
  } catch (error) {
    if (error instanceof RestError && error.code === 'E_NOT_FOUND') return undefined;
    throw error;
  }
}
