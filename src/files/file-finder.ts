import { lstatSync } from 'node:fs';
import { pathGlob, pathGlobBase } from '../core/path-glob.js';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { CodeBuddyError } from '../core/errors.js';
import type { Workspace } from '../workspaces/workspace.js';
import { resolveExisting, resolveInWorkspace } from './path-resolver.js';
import { walkTree, type TreeEntry } from './tree-walker.js';
import { at, ParentDirectories } from './workspace-handle.js';

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

/** One page of a deterministic list, with the cursor for the next one when more follow. */
function pageOf<T>(kind: string, query: string, skip: number, size: number, all: readonly T[]): Page<T> {
  const items = all.slice(skip, skip + size);
  return skip + size < all.length ? { items, next_cursor: encodeCursor(kind, { q: query, skip: skip + size }) } : { items };
}

function sizeOf(parents: ParentDirectories, path: string): number | undefined {
  try {
    const { dir, name } = parents.parentOf(path);
    return lstatSync(at(dir, name)).size;
  } catch {
    return undefined; // gone meanwhile
  }
}

/** Listing and name globbing over a workspace tree, .gitignore honoured, paged. */
export class FileFinder {
  constructor(private readonly pageSize: number) {}

  async list(workspace: Workspace, input: { path?: string; depth?: number; cursor?: string }): Promise<Page<ListedEntry>> {
    const start = await resolveExisting(workspace.root, input.path ?? '', 'directory');
    const depth = input.depth ?? 2;
    const query = `${start.relative}\0${depth}`;
    const skip = pageStart('file_list', query, input.cursor);
    const page = pageOf('file_list', query, skip, this.pageSize, await walkTree(workspace.root, start.relative, { maxDepth: depth }));
    // Sizes only for the entries shown: a page costs a page of lstat calls (through directory handles), not a tree of them.
    const parents = new ParentDirectories(workspace.root);
    try {
      const items = page.items.map(({ path, type }): ListedEntry => {
        const size = type === 'file' ? sizeOf(parents, path) : undefined;
        return size === undefined ? { path, type } : { path, type, size };
      });
      return { ...page, items };
    } finally {
      parents.close();
    }
  }

  /**
   * Files whose path relative to `path` (default: the workspace root) matches the glob;
   * a pattern without `/` matches base names at any depth. Answers are workspace-relative.
   */
  async glob(workspace: Workspace, input: { pattern: string; path?: string; cursor?: string }): Promise<Page<string>> {
    const start = await resolveExisting(workspace.root, input.path ?? '', 'directory');
    const pattern = input.pattern.replace(/^\.\//, '');
    const matches = pathGlob(pattern);
    // Walk only below the pattern's literal prefix (`src/**/*.ts` needs only `src`).
    const base = pathGlobBase(pattern);
    const within = start.relative === '' ? base : base === '' ? start.relative : `${start.relative}/${base}`;
    const walkFrom = within === '' ? '' : (await resolveInWorkspace(workspace.root, within)).relative;
    const query = `${walkFrom}\0${pattern}`;
    const skip = pageStart('file_glob', query, input.cursor);
    const prefix = start.relative === '' ? 0 : start.relative.length + 1;
    // A literal prefix that is missing or not a directory simply has no files below it.
    const entries = await walkTree(workspace.root, walkFrom);
    const found = entries.filter((entry) => entry.type === 'file' && matches(entry.path.slice(prefix))).map((entry) => entry.path);
    return pageOf('file_glob', query, skip, this.pageSize, found);
  }
}
