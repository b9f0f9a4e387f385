import { closeSync, openSync, readdirSync, unlinkSync } from 'node:fs';
import { CodeBuddyError } from '../../core/errors.js';
import { outermostPaths } from '../../core/outermost-paths.js';
import { pathGlob, pathGlobBase } from '../../core/path-glob.js';
import { at, DIRECTORY, locateInWorkspace, openWorkspaceDirectory } from '../../files/workspace-handle.js';

/**
 * How many entries the search for denied paths reads before it gives up. It runs before a
 * command starts, on the event loop, and only in workspaces whose policy denies paths to
 * commands; past this, the command is refused rather than started with a mask missing.
 */
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
   * mask on, which `releaseMasks` removes after the command if it is still that empty stand-in.
   */
  placeholders: string[];
}

const isLiteral = (glob: string) => !/[*?[\]{}()!+@]/.test(glob);

/** Placeholders in use by running commands, keyed by root and path, so one command's end never unmasks another's. */
const placeholderUsers = new Map<string, number>();

/**
 * The workspace paths that policy globs deny, to be masked in a command's sandbox: every
 * existing entry that matches (a matching directory is masked whole), plus each literal path
 * (`.env`), existing or not, so that a command cannot create it either. Globs match as the
 * policy matches them (`pathGlob`). The search walks by handles, never following a symlink,
 * and only below each glob's literal base (`secrets/**` reads `secrets` alone).
 */
export function planMasks(root: string, globs: readonly string[]): MaskPlan {
  if (globs.length === 0) return { masks: [], placeholders: [] };
  const matchers = globs.map(pathGlob);
  const denied = (path: string) => matchers.some((match) => match(path));
  const masks: PathMask[] = [];
  let seen = 0;

  const walk = (dir: number, directory: string) => {
    for (const entry of readdirSync(at(dir), { withFileTypes: true })) {
      if (++seen > MAX_ENTRIES) {
        throw new CodeBuddyError(
          'E_TOO_LARGE',
          `the workspace has more than ${MAX_ENTRIES} entries where its policy's denied paths could be; commands are refused rather than run with a path unmasked: give those deny rules a directory prefix (secrets/**, not **/secret*)`,
        );
      }
      const path = directory === '' ? entry.name : `${directory}/${entry.name}`;
      if (denied(path)) masks.push({ path, directory: entry.isDirectory() });
      else if (entry.isDirectory()) withDirectory(() => openSync(at(dir, entry.name), DIRECTORY), (child) => walk(child, path));
    }
  };
  for (const base of outermostPaths(globs.map(pathGlobBase))) {
    withDirectory(() => openWorkspaceDirectory(root, base).fd, (dir) => {
      if (base !== '' && denied(base)) masks.push({ path: base, directory: true });
      else walk(dir, base);
    });
  }

  const placeholders: string[] = [];
  for (const glob of globs) {
    if (!isLiteral(glob) || masks.some((mask) => mask.path === glob)) continue;
    const located = locateMissing(root, glob);
    if (located === undefined) continue;
    masks.push({ path: located, directory: false });
    placeholders.push(located);
    const key = `${root}\0${located}`;
    placeholderUsers.set(key, (placeholderUsers.get(key) ?? 0) + 1);
  }
  return { masks, placeholders };
}

/** After the command: removes the stand-ins it no longer needs, if they are still empty files. */
export function releaseMasks(root: string, plan: MaskPlan): void {
  for (const path of plan.placeholders) {
    const key = `${root}\0${path}`;
    const users = (placeholderUsers.get(key) ?? 1) - 1;
    if (users > 0) {
      placeholderUsers.set(key, users);
      continue;
    }
    placeholderUsers.delete(key);
    let located;
    try {
      located = locateInWorkspace(root, path, { last: 'entry' });
    } catch {
      continue; // its directory is gone or changed: nothing of ours to remove
    }
    try {
      if (located.relative === path && located.info?.isFile() && located.info.size === 0) unlinkSync(at(located.dir, located.name));
    } catch {
      // removed meanwhile
    } finally {
      closeSync(located.dir);
    }
  }
}

/** A literal path that does not exist yet, as its canonical relative path, when its directory does. */
function locateMissing(root: string, path: string): string | undefined {
  let located;
  try {
    located = locateInWorkspace(root, path, { last: 'entry' });
  } catch {
    return undefined; // its directory is missing, not a directory, or leads outside: nothing to mount on
  }
  closeSync(located.dir);
  return located.info === undefined ? located.relative : undefined;
}

/** Runs `use` on a directory handle from `open`, closing it after; a directory that cannot be opened (missing, a link, a file) is skipped. */
function withDirectory(open: () => number, use: (dir: number) => void): void {
  let dir: number;
  try {
    dir = open();
  } catch {
    return;
  }
  try {
    use(dir);
  } finally {
    closeSync(dir);
  }
}
