import { readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { measure, summarize, type Summary } from './stats.js';
import { fromDist } from './from-dist.js';

/**
 * Where a file_glob run spends its time, in process (the built dist/ code): the tree
 * walk on its own, each page of `*.md` as the server computes it (each page is its own
 * call), and for scale a bare sequential recursive readdir of the same tree with no
 * .gitignore handling and no sorting.
 */
export interface GlobBreakdownRow {
  step: string;
  summary: Summary;
}

type FinderModule = typeof import('../src/files/file-finder.js');
type WalkerModule = typeof import('../src/files/tree-walker.js');
type Workspace = import('../src/workspaces/workspace.js').Workspace;

async function bareWalk(directory: string): Promise<number> {
  let files = 0;
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    if (entry.isDirectory()) files += await bareWalk(join(directory, entry.name));
    else if (entry.isFile()) files++;
  }
  return files;
}

export async function benchGlobBreakdown(treeDir: string, runs = 20): Promise<GlobBreakdownRow[]> {
  const { FileFinder } = await fromDist<FinderModule>('files/file-finder.js');
  const { walkTree } = await fromDist<WalkerModule>('files/tree-walker.js');
  const finder = new FileFinder(200); // the default listPageSize
  // FileFinder reads only the root (absolute and symlink-free, as a stored workspace's is).
  const workspace: Workspace = { id: 'ws_bench', tenantId: 'local', name: 'tree', root: await realpath(treeDir), adopted: true, runtime: 'local', status: 'ready', createdBy: 'bench', createdAt: 0 };

  const pages: Array<string | undefined> = [undefined];
  for (let cursor = (await finder.glob(workspace, { pattern: '*.md' })).next_cursor; cursor !== undefined; ) {
    pages.push(cursor);
    cursor = (await finder.glob(workspace, { pattern: '*.md', cursor })).next_cursor;
  }

  const options = { warmup: 3, runs };
  const rows: GlobBreakdownRow[] = [
    {
      step: 'walkTree of the whole tree (sorted, .gitignore-aware, as every file_glob call does)',
      summary: summarize(await measure(() => walkTree(workspace.root, ''), options)),
    },
    { step: 'bare sequential recursive readdir of the same tree (for scale)', summary: summarize(await measure(() => bareWalk(treeDir), options)) },
  ];
  for (const [index, cursor] of pages.entries()) {
    const input = cursor === undefined ? { pattern: '*.md' } : { pattern: '*.md', cursor };
    rows.push({ step: `FileFinder.glob \`*.md\`, page ${index + 1} of ${pages.length}`, summary: summarize(await measure(() => finder.glob(workspace, input), options)) });
  }
  return rows;
}
