import { ROOT_URI } from '../../code/workspace-uri.js';

/** Keys whose string values are document or folder URIs in LSP messages. */
const URI_KEYS = new Set(['uri', 'targetUri', 'rootUri', 'scopeUri', 'baseUri', 'oldUri', 'newUri']);
/** Keys whose object's keys are URIs (`WorkspaceEdit.changes`). */
const URI_MAP_KEYS = new Set(['changes']);
/** Document text is never rewritten, whatever it contains. */
const OPAQUE_KEYS = new Set(['text', 'contentChanges', 'newText', 'contents', 'documentation', 'message']);

/**
 * Where an editor's files are and where the workspace's language servers see them. An editor
 * names files under its own root (a local folder's `file:///home/ana/shop/...`, or the
 * `codebuddy:` URIs of a remote workspace); servers see `file:///workspace/...` on every
 * runtime. Translation is by prefix, on the fields LSP defines as URIs, nothing else: a
 * URI outside the editor's root (a library) passes unchanged.
 */
export class UriTranslator {
  private readonly clientRoot: string;

  constructor(clientRoot: string) {
    this.clientRoot = clientRoot.replace(/\/+$/, '');
  }

  /** The server's URI for an editor's, or undefined when it lies outside the editor's root. */
  toServer(uri: string): string | undefined {
    return swapRoot(uri, this.clientRoot, ROOT_URI);
  }

  toClient(uri: string): string {
    return swapRoot(uri, ROOT_URI, this.clientRoot) ?? uri;
  }

  /** A message's params or result with the editor's URIs made the server's. */
  paramsToServer<T>(value: T): T {
    return rewrite(value, (uri) => this.toServer(uri) ?? uri) as T;
  }

  /** A server's answer or notification with its URIs made the editor's. */
  resultToClient<T>(value: T): T {
    return rewrite(value, (uri) => this.toClient(uri)) as T;
  }
}

function swapRoot(uri: string, from: string, to: string): string | undefined {
  if (uri === from) return to;
  if (uri.startsWith(`${from}/`)) return to + uri.slice(from.length);
  return undefined;
}

function rewrite(value: unknown, map: (uri: string) => string, key?: string): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'string' && key !== undefined && URI_KEYS.has(key) ? map(value) : value;
  if (Array.isArray(value)) return value.map((item) => rewrite(item, map, key));
  const out: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value)) {
    if (OPAQUE_KEYS.has(name)) out[name] = item;
    else if (URI_MAP_KEYS.has(name) && item !== null && typeof item === 'object' && !Array.isArray(item)) {
      out[name] = Object.fromEntries(Object.entries(item).map(([uri, edits]) => [map(uri), rewrite(edits, map)]));
    } else out[name] = rewrite(item, map, name);
  }
  return out;
}
