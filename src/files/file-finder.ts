import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { CodeBuddyError } from '../core/errors.js';
import type { Workspace } from '../workspaces/workspace.js';
import { resolveInWorkspace } from './path-resolver.js';
import { walkTree, type TreeEntry } from './tree-walker.js';

export interface ListedEntry {
  path: string;
  type: TreeEntry['type'];
  size?: number;
}

export interface Page<T> {
  items: T[];
  next_cursor?: string;
}

/** A query's identity travels in its cursor: a cursor replayed with another query is refused. */
function pageStart(kind: string, query: string, cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const state = decodeCursor<{ q: string; skip: number }>(kind, cursor);
  if (state.q !== query) throw new CodeBuddyError('E_INVALID_CURSOR', `that cursor belongs to another ${kind} query`, { field: 'cursor' });
  return state.skip;
}

/** Takes one page from a deterministic stream, looking one item past it to know whether more follow. */
async function takePage<T>(kind: string, query: string, skip: number, size: number, stream: AsyncIterable<T>): Promise<Page<T>> {
  const items: T[] = [];
  let seen = 0;
  for await (const item of stream) {
    if (seen++ < skip) continue;
    if (items.length === size) return { items, next_cursor: encodeCursor(kind, { q: query, skip: skip + size }) };
    items.push(item);
  }
  return { items };
}

/** Listing and name globbing over a workspace tree, .gitignore honoured, paged. */
export class FileFinder {
  constructor(private readonly pageSize: number) {}

  async list(workspace: Workspace, input: { path?: string; depth?: number; cursor?: string }): Promise<Page<ListedEntry>> {
    const start = await resolveInWorkspace(workspace.root, input.path ?? '');
    const info = await lstat(start.absolute).catch(() => undefined);
    if (!info) throw new CodeBuddyError('E_NOT_FOUND', `${start.relative} not found`, { field: 'path' });
    if (!info.isDirectory()) throw new CodeBuddyError('E_NOT_A_DIRECTORY', `${start.relative} is not a directory`, { field: 'path' });
    const depth = input.depth ?? 2;
    const query = `${start.relative}\0${depth}`;
    const skip = pageStart('file_list', query, input.cursor);
    const root = workspace.root;
    async function* entries(): AsyncGenerator<ListedEntry> {
      for await (const entry of walkTree(root, start.relative, { maxDepth: depth })) {
        if (entry.type !== 'file') {
          yield { path: entry.path, type: entry.type };
          continue;
        }
        const size = (await lstat(join(root, entry.path)).catch(() => undefined))?.size;
        yield size === undefined ? { path: entry.path, type: entry.type } : { path: entry.path, type: entry.type, size };
      }
    }
    return takePage('file_list', query, skip, this.pageSize, entries());
  }

  /**
   * Files whose path relative to `path` (default: the workspace root) matches the glob;
   * a pattern without `/` matches base names at any depth. Answers are workspace-relative.
   */
  async glob(workspace: Workspace, input: { pattern: string; path?: string; cursor?: string }): Promise<Page<string>> {
    const start = await resolveInWorkspace(workspace.root, input.path ?? '');
    const pattern = input.pattern.replace(/^\.\//, '');
    const matches = picomatch(pattern, { dot: true, basename: !pattern.includes('/') });
    // Walk only below the pattern's literal prefix (`src/**/*.ts` needs only `src`).
    const scan = picomatch.scan(pattern);
    const base = pattern.includes('/') && scan.base ? scan.base : '';
    const within = start.relative === '' ? base : base === '' ? start.relative : `${start.relative}/${base}`;
    const walkFrom = within === '' ? '' : (await resolveInWorkspace(workspace.root, within)).relative;
    const query = `${walkFrom}\0${pattern}`;
    const skip = pageStart('file_glob', query, input.cursor);
    const root = workspace.root;
    const prefix = start.relative === '' ? 0 : start.relative.length + 1;
    async function* found(): AsyncGenerator<string> {
      const exists = await lstat(join(root, walkFrom)).catch(() => undefined);
      if (!exists?.isDirectory()) return;
      for await (const entry of walkTree(root, walkFrom)) {
        if (entry.type === 'file' && matches(entry.path.slice(prefix))) yield entry.path;
      }
    }
    return takePage('file_glob', query, skip, this.pageSize, found());
  }
}
