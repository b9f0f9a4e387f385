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

/**
 * Depth-first, name-sorted walk below `start` (workspace-relative), honouring every
 * .gitignore on the way down (and the ones above `start`) and never entering `.git`.
 * Symlinks are reported, never followed, so a walk cannot leave the workspace.
 * Deterministic order is what lets callers page with a simple skip count.
 */
export async function* walkTree(root: string, start: string, options: { maxDepth?: number; enter?: (directory: string) => boolean } = {}): AsyncGenerator<TreeEntry> {
  const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
  const scopes: IgnoreScope[] = [];
  const ancestors = start === '' ? [''] : ['', ...start.split('/').map((_, index, parts) => parts.slice(0, index + 1).join('/'))];
  for (const directory of ancestors) {
    const scope = await loadGitignore(root, directory);
    if (scope) scopes.push(scope);
  }
  yield* walkDirectory(root, start, 1, maxDepth, scopes, options.enter);
}

async function* walkDirectory(
  root: string,
  directory: string,
  depth: number,
  maxDepth: number,
  scopes: IgnoreScope[],
  enter: ((directory: string) => boolean) | undefined,
): AsyncGenerator<TreeEntry> {
  let entries;
  try {
    entries = await readdir(join(root, directory), { withFileTypes: true });
  } catch {
    return; // vanished or unreadable meanwhile: nothing to list there
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name === '.git') continue;
    const path = directory === '' ? entry.name : `${directory}/${entry.name}`;
    const isDirectory = entry.isDirectory();
    if (isIgnored(scopes, path, isDirectory)) continue;
    const type = isDirectory ? 'directory' : entry.isFile() ? 'file' : entry.isSymbolicLink() ? 'symlink' : 'other';
    yield { path, type, depth };
    if (isDirectory && depth < maxDepth && (!enter || enter(path))) {
      const scope = await loadGitignore(root, path);
      if (scope) scopes.push(scope);
      yield* walkDirectory(root, path, depth + 1, maxDepth, scopes, enter);
      if (scope) scopes.pop();
    }
  }
}
