import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';

export interface TreeEntry {
  /** Workspace-relative, `/`-separated. */
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  depth: number;
}

interface IgnoreScope {
  /** Directory (workspace-relative) the .gitignore sits in; '' for the root. */
  base: string;
  rules: Ignore;
}

async function loadGitignore(root: string, directory: string): Promise<IgnoreScope | undefined> {
  try {
    const text = await readFile(join(root, directory, '.gitignore'), 'utf8');
    return { base: directory, rules: ignore().add(text) };
  } catch {
    return undefined;
  }
}

function isIgnored(scopes: readonly IgnoreScope[], path: string, isDirectory: boolean): boolean {
  for (const scope of scopes) {
    const relative = scope.base === '' ? path : path.slice(scope.base.length + 1);
    if (scope.rules.ignores(isDirectory ? `${relative}/` : relative)) return true;
  }
  return false;
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Every entry below `start` (workspace-relative) in depth-first, name-sorted order,
 * honouring each .gitignore on the way down (and those above `start`) and never entering
 * `.git`. Symlinks are reported, never followed, so a walk cannot leave the workspace.
 *
 * Sibling directories are read concurrently (the file system works in parallel on the
 * thread pool) and stitched back in order, so the result is deterministic: callers page
 * through it with a plain skip count.
 */
export async function walkTree(root: string, start: string, options: { maxDepth?: number } = {}): Promise<TreeEntry[]> {
  const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
  const scopes: IgnoreScope[] = [];
  const ancestors = start === '' ? [] : start.split('/').map((_, index, parts) => parts.slice(0, index).join('/'));
  for (const directory of ancestors) {
    const scope = await loadGitignore(root, directory);
    if (scope) scopes.push(scope);
  }
  return walkDirectory(root, start, 1, maxDepth, scopes);
}

async function walkDirectory(root: string, directory: string, depth: number, maxDepth: number, inherited: readonly IgnoreScope[]): Promise<TreeEntry[]> {
  let entries;
  try {
    entries = await readdir(join(root, directory), { withFileTypes: true });
  } catch {
    return []; // vanished or unreadable meanwhile: nothing to list there
  }
  // Only a directory that has a .gitignore pays for reading one.
  const own = entries.some((entry) => entry.name === '.gitignore' && entry.isFile()) ? await loadGitignore(root, directory) : undefined;
  const scopes = own ? [...inherited, own] : inherited;

  entries.sort(byName);
  const kept: TreeEntry[] = [];
  const subtrees: Promise<TreeEntry[]>[] = [];
  for (const entry of entries) {
    if (entry.name === '.git') continue;
    const path = directory === '' ? entry.name : `${directory}/${entry.name}`;
    const isDirectory = entry.isDirectory();
    if (isIgnored(scopes, path, isDirectory)) continue;
    kept.push({ path, type: isDirectory ? 'directory' : entry.isFile() ? 'file' : entry.isSymbolicLink() ? 'symlink' : 'other', depth });
    if (isDirectory && depth < maxDepth) subtrees.push(walkDirectory(root, path, depth + 1, maxDepth, scopes));
  }

  const children = await Promise.all(subtrees);
  const out: TreeEntry[] = [];
  let next = 0;
  for (const entry of kept) {
    out.push(entry);
    if (entry.type === 'directory' && entry.depth < maxDepth) for (const child of children[next++]!) out.push(child);
  }
  return out;
}
