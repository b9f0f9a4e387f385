import { posix } from 'node:path';
import { WORKSPACE_MOUNT } from '../workspaces/workspace.js';

/**
 * Paths and URIs between CodeBuddy and a language server. Servers run where the workspace is
 * mounted at /workspace (the local sandbox and a container alike), so they see
 * `file:///workspace/...` whatever the host path is; answers carry workspace-relative paths.
 */
export const ROOT_URI = `file://${WORKSPACE_MOUNT}`;

/** A workspace-relative path (canonical, `/`-separated) as the server names it. */
export function uriOf(relative: string): string {
  return `${ROOT_URI}/${relative.split('/').map(encodeURIComponent).join('/')}`;
}

/** A place a server answered with: inside the workspace (relative path) or outside it (never a host path of ours). */
export type MappedPath = { inside: true; path: string } | { inside: false; path: string };

/**
 * A server's URI back to a path. Outside the workspace (a library, the runtime's own
 * files) it is marked external and named from its last `node_modules` package on, or by its
 * file name alone: the server's view of the file system is not the agent's business.
 */
export function pathOf(uri: string): MappedPath {
  let absolute: string;
  try {
    const url = new URL(uri);
    if (url.protocol !== 'file:') return { inside: false, path: url.protocol.replace(/:$/, '') + ':' + posix.basename(url.pathname) };
    absolute = posix.normalize(decodeURIComponent(url.pathname));
  } catch {
    return { inside: false, path: '(unreadable location)' };
  }
  if (absolute.startsWith(`${WORKSPACE_MOUNT}/`)) return { inside: true, path: absolute.slice(WORKSPACE_MOUNT.length + 1) };
  const modules = absolute.lastIndexOf('/node_modules/');
  return { inside: false, path: modules >= 0 ? absolute.slice(modules + 1) : posix.basename(absolute) };
}

/** How a mapped path is shown in compact answers. */
export function shownPath(mapped: MappedPath): string {
  return mapped.inside ? mapped.path : `(external) ${mapped.path}`;
}
