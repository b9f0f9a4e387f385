import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import picomatch from 'picomatch';

/** How far the search for denied paths goes before it stops (a workspace may be huge). */
const MAX_ENTRIES = 50_000;

export interface PathMask {
  /** Workspace-relative. */
  path: string;
  directory: boolean;
}

export interface MaskPlan {
  masks: PathMask[];
  /**
   * Literal denied paths that did not exist: bwrap creates an empty file there to mount the
   * mask on, which `release` removes after the command if it is still that empty stand-in.
   */
  placeholders: string[];
}

const isLiteral = (glob: string) => !/[*?[\]{}()!+@]/.test(glob);

/** Placeholders in use by running commands, so one command's end never unmasks another's. */
const placeholderUsers = new Map<string, number>();

/**
 * The workspace paths that policy globs deny, to be masked in a command's sandbox: every
 * existing entry that matches (a matching directory is masked whole), plus each literal path
 * (`.env`), existing or not, so that a command cannot create it either. Globs match as the
 * policy matches them (dot files included; a glob without `/` matches names at any depth).
 * Symlinks are never followed; a link that matches is masked like a file.
 */
export function planMasks(root: string, globs: readonly string[]): MaskPlan {
  if (globs.length === 0) return { masks: [], placeholders: [] };
  const matchers = globs.map((glob) => picomatch(glob.replace(/^\/+/, ''), { dot: true, basename: !glob.includes('/') }));
  const denied = (path: string) => matchers.some((match) => match(path));
  const masks: PathMask[] = [];
  let seen = 0;
  const walk = (directory: string) => {
    let entries;
    try {
      entries = readdirSync(join(root, directory), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (++seen > MAX_ENTRIES) return;
      const path = directory === '' ? entry.name : `${directory}/${entry.name}`;
      if (denied(path)) masks.push({ path, directory: entry.isDirectory() });
      else if (entry.isDirectory()) walk(path);
    }
  };
  walk('');

  const placeholders: string[] = [];
  for (const glob of globs) {
    const path = glob.replace(/^\/+/, '');
    if (!isLiteral(path) || path.includes('..') || masks.some((mask) => mask.path === path)) continue;
    if (!parentIsPlainDirectory(root, path)) continue;
    masks.push({ path, directory: false });
    placeholders.push(path);
    placeholderUsers.set(join(root, path), (placeholderUsers.get(join(root, path)) ?? 0) + 1);
  }
  return { masks, placeholders };
}

/** After the command: removes the stand-ins it no longer needs, if they are still empty files. */
export function releaseMasks(root: string, plan: MaskPlan): void {
  for (const path of plan.placeholders) {
    const absolute = join(root, path);
    const users = (placeholderUsers.get(absolute) ?? 1) - 1;
    if (users > 0) {
      placeholderUsers.set(absolute, users);
      continue;
    }
    placeholderUsers.delete(absolute);
    if (!parentIsPlainDirectory(root, path)) continue;
    try {
      const info = lstatSync(absolute);
      if (info.isFile() && info.size === 0) rmSync(absolute);
    } catch {
      // never made, or gone already
    }
  }
}

/** Every parent of `path` is a real directory, not a symlink that could lead elsewhere. */
function parentIsPlainDirectory(root: string, path: string): boolean {
  const parts = path.split('/').slice(0, -1);
  let current = root;
  for (const part of parts) {
    current = join(current, part);
    try {
      const info = lstatSync(current);
      if (!info.isDirectory()) return false;
    } catch {
      return false;
    }
  }
  return true;
}
