import { closeSync } from 'node:fs';
import { join } from 'node:path';
import { CodeBuddyError } from '../core/errors.js';
import { canonicalInWorkspace, locateInWorkspace } from './workspace-handle.js';

export { normalizeRelative } from './relative-path.js';

export interface ResolvedPath {
  /** Host path of the entry (the root joined with `relative`), for what must name it: a command's cwd. */
  absolute: string;
  /** Workspace-relative, `/`-separated, no `.` or `..`, symlinks inside the workspace resolved; '' for the root. */
  relative: string;
}

/*
 * Paths as names, for what needs a name rather than a handle: policy rules (which see where
 * symlinks lead), the cwd of a command, messages. File access itself never goes through
 * these strings: it walks handles (workspace-handle.ts).
 */

/**
 * Where a workspace-relative path leads, checked to stay inside the workspace: resolved
 * component by component from the root's handle, symlinks followed only inside; a path
 * that does not exist yet is taken as written below its deepest existing directory.
 */
export async function resolveInWorkspace(root: string, path: string): Promise<ResolvedPath> {
  const relative = canonicalInWorkspace(root, path);
  return { absolute: relative === '' ? root : join(root, relative), relative };
}

/** What a path names, checked to exist: a search or walk below a missing path is a mistake worth saying. */
export async function resolveExisting(root: string, path: string, expect: 'directory' | 'any'): Promise<ResolvedPath & { isDirectory: boolean; isFile: boolean }> {
  const entry = locateInWorkspace(root, path, { last: 'follow' });
  closeSync(entry.dir);
  const shown = entry.relative || '(workspace root)';
  if (!entry.info) throw new CodeBuddyError('E_NOT_FOUND', `${shown} not found`, { field: 'path' });
  const isDirectory = entry.info.isDirectory();
  if (expect === 'directory' && !isDirectory) throw new CodeBuddyError('E_NOT_A_DIRECTORY', `${entry.relative} is not a directory`, { field: 'path' });
  return { absolute: entry.relative === '' ? root : join(root, entry.relative), relative: entry.relative, isDirectory, isFile: entry.info.isFile() };
}
