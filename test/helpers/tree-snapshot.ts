import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every entry below `dir` (symlinks not followed), each as its type, mode and content hash
 * or link target (what `skip` names is left out): two snapshots are equal only if nothing was created, deleted, changed
 * or re-linked in between.
 */
export function treeSnapshot(dir: string, skip: (absolute: string) => boolean = () => false): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (relative: string) => {
    const absolute = relative === '' ? dir : join(dir, relative);
    if (skip(absolute)) return;
    const info = lstatSync(absolute);
    const mode = (info.mode & 0o7777).toString(8);
    if (info.isSymbolicLink()) out[relative] = `link ${readlinkSync(absolute)}`;
    else if (info.isDirectory()) {
      out[relative] = `dir ${mode}`;
      for (const name of readdirSync(absolute).sort()) visit(relative === '' ? name : `${relative}/${name}`);
    } else if (info.isFile()) out[relative] = `file ${mode} ${info.size} ${createHash('sha256').update(readFileSync(absolute)).digest('hex')}`;
    else out[relative] = `other ${mode}`;
  };
  visit('');
  return out;
}
