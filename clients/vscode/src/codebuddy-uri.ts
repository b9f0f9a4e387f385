/**
 * `codebuddy://<workspace>/<path>`: a file of a remote workspace as VS Code names it. The
 * authority is the workspace (an id or a name); the path is relative to the workspace root.
 * Pure (no `vscode` import): it works on a URI's decoded parts, as `vscode.Uri` gives them.
 *
 * VS Code compares authorities ignoring case, while workspace names are case-sensitive:
 * two workspaces named `Shop` and `shop` would be one folder to VS Code; ids never collide.
 */
export const SCHEME = 'codebuddy';

export interface UriParts {
  scheme: string;
  authority: string;
  path: string;
}

export interface WorkspacePath {
  workspace: string;
  /** Relative to the workspace root, `/`-separated, no leading slash; `''` is the root. */
  path: string;
}

export class CodeBuddyUriError extends Error {
  override readonly name = 'CodeBuddyUriError';
}

/** Which workspace and which path a `codebuddy:` URI names; refuses `.`/`..` segments rather than guess where they lead. */
export function workspacePathOf(uri: UriParts): WorkspacePath {
  if (uri.scheme !== SCHEME) throw new CodeBuddyUriError(`not a ${SCHEME}: URI (${uri.scheme}:)`);
  if (uri.authority === '') throw new CodeBuddyUriError(`${SCHEME}: URIs name the workspace first: ${SCHEME}://<workspace>/<path>`);
  const segments = uri.path.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '.' || segment === '..')) throw new CodeBuddyUriError(`${uri.path}: . and .. are not followed in ${SCHEME}: paths`);
  return { workspace: uri.authority, path: segments.join('/') };
}

/** The URI parts of a workspace path (the root is `codebuddy://<workspace>/`). */
export function uriPartsOf(location: WorkspacePath): UriParts {
  return { scheme: SCHEME, authority: location.workspace, path: `/${location.path}` };
}

/** The `path` argument the file operations take: they name the root `.` (an empty path is refused). */
export function operationPath(path: string): string {
  return path === '' ? '.' : path;
}

/** The last segment of a workspace path, for a directory listing's names. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
