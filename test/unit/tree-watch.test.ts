import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TreeWatch, type TreeChange } from '../../src/files/tree-watch.js';
import { tempDir } from '../helpers/test-server.js';

/** A watch of `root` whose reports are collected; `until` waits (no fixed sleep) for one that matches. */
function watching(root: string, skipped: string[] = []) {
  const seen: TreeChange[] = [];
  const errors: unknown[] = [];
  let wake: (() => void) | undefined;
  const watch = new TreeWatch(
    root,
    (name) => skipped.includes(name),
    (change) => {
      seen.push(change);
      wake?.();
    },
    (error) => errors.push(error),
  );
  const until = async (match: Partial<TreeChange>) => {
    const found = () => seen.find((change) => Object.entries(match).every(([key, value]) => change[key as keyof TreeChange] === value));
    while (!found()) await new Promise<void>((resolve) => (wake = resolve));
    return found()!;
  };
  return { watch, seen, errors, until };
}

describe('TreeWatch', () => {
  const open: TreeWatch[] = [];
  afterEach(() => {
    for (const watch of open.splice(0)) watch.close();
  });

  it('reports created, changed and deleted files and directories by their path, nothing from the initial scan', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, 'src', 'a.ts'), '1');
    const { watch, seen, errors, until } = watching(root);
    open.push(watch);
    await watch.ready;
    expect(seen).toEqual([]);

    writeFileSync(join(root, 'src', 'a.ts'), '2');
    await until({ path: 'src/a.ts', kind: 'changed' });
    // Replaced by a rename, as an atomic write does: a change of the path.
    writeFileSync(join(root, 'src', '.a.ts.tmp'), '3');
    renameSync(join(root, 'src', '.a.ts.tmp'), join(root, 'src', 'a.ts'));
    await until({ path: 'src/a.ts', kind: 'changed' });

    // A directory made with files in it: the directory and what is in it, and it is watched.
    mkdirSync(join(root, 'gen', 'deep'), { recursive: true });
    writeFileSync(join(root, 'gen', 'deep', 'x.txt'), 'x');
    await until({ path: 'gen', kind: 'created', directory: true });
    await until({ path: 'gen/deep/x.txt', kind: 'created', directory: false });
    writeFileSync(join(root, 'gen', 'deep', 'y.txt'), 'y');
    await until({ path: 'gen/deep/y.txt', kind: 'created' });

    // A directory removed: everything known below it, and itself.
    rmSync(join(root, 'gen'), { recursive: true });
    await until({ path: 'gen', kind: 'deleted', directory: true });
    expect(seen.filter((change) => change.kind === 'deleted').map((change) => change.path)).toEqual(expect.arrayContaining(['gen/deep/x.txt', 'gen/deep/y.txt', 'gen/deep', 'gen']));
    expect(errors).toEqual([]);
  });

  it('never reports or watches a skipped name, at any depth', async () => {
    const root = tempDir();
    const { watch, seen, until } = watching(root, ['node_modules', '.x.cb-tmp']);
    open.push(watch);
    await watch.ready;
    mkdirSync(join(root, 'a', 'node_modules', 'pkg'), { recursive: true });
    writeFileSync(join(root, 'a', 'node_modules', 'pkg', 'index.js'), '1');
    writeFileSync(join(root, '.x.cb-tmp'), 'scratch');
    writeFileSync(join(root, 'marker.txt'), 'after');
    await until({ path: 'marker.txt', kind: 'created' });
    expect(seen.filter((change) => change.path.includes('node_modules') || change.path.includes('cb-tmp'))).toEqual([]);
  });

  it('never follows a link: a watched directory swapped for a link out is reported gone, and nothing behind the link is reported', async () => {
    const root = tempDir();
    const outside = tempDir('codebuddy-outside-');
    mkdirSync(join(root, 'swap'));
    writeFileSync(join(root, 'swap', 'inside.txt'), 'x');
    symlinkSync(outside, join(root, 'link-out'));
    const { watch, seen, until } = watching(root);
    open.push(watch);
    await watch.ready;
    renameSync(join(root, 'swap'), join(root, 'swapped-away'));
    symlinkSync(outside, join(root, 'swap'));
    await until({ path: 'swap', kind: 'created', directory: false });
    await until({ path: 'swapped-away', kind: 'created', directory: true });
    writeFileSync(join(outside, 'secret-name.txt'), 'host data');
    writeFileSync(join(root, 'swapped-away', 'after.txt'), 'a change inside, after the one outside');
    await until({ path: 'swapped-away/after.txt', kind: 'created' });
    expect(seen.filter((change) => change.path.includes('secret-name'))).toEqual([]);
    expect(seen).toContainEqual({ path: 'swap/inside.txt', kind: 'deleted', directory: false });
  });

  it('stops reporting once closed', async () => {
    const root = tempDir();
    const { watch, seen, until } = watching(root);
    await watch.ready;
    writeFileSync(join(root, 'before.txt'), '1');
    await until({ path: 'before.txt' });
    watch.close();
    const count = seen.length;
    writeFileSync(join(root, 'after.txt'), '1');
    // Another watch of the same root hears the write: the closed one, by then, would have too.
    const other = watching(root);
    open.push(other.watch);
    await other.watch.ready;
    writeFileSync(join(root, 'after.txt'), '2');
    await other.until({ path: 'after.txt', kind: 'changed' });
    expect(seen.length).toBe(count);
  });
});
