import { ROOT_URI } from '../../code/workspace-uri.js';
import { translateJsonText, type TranslationKeys } from './json-text-translation.js';

/** Keys whose string values are document or folder URIs in LSP messages. */
const URI_KEYS = new Set(['uri', 'targetUri', 'rootUri', 'scopeUri', 'baseUri', 'oldUri', 'newUri']);
/** Keys whose object's keys are URIs (`WorkspaceEdit.changes`). */
const URI_MAP_KEYS = new Set(['changes']);
/** Document text is never rewritten, whatever it contains. */
const OPAQUE_KEYS = new Set(['text', 'contentChanges', 'newText', 'contents', 'documentation', 'message']);
/**
 * Keys LSP defines as a Range or Position (numbers only): not descended into. A references
 * answer is mostly ranges; skipping them halves the walk over a 961-location result.
 */
const POSITION_KEYS = new Set(['range', 'selectionRange', 'targetRange', 'targetSelectionRange', 'originSelectionRange', 'position', 'start', 'end']);
/** The same rules for a JSON text: ranges and document text alike are left as they are. */
const TEXT_KEYS: TranslationKeys = { uri: URI_KEYS, uriMap: URI_MAP_KEYS, opaque: new Set([...OPAQUE_KEYS, ...POSITION_KEYS]) };

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

  /** A message's params or result with the editor's URIs made the server's (rewritten in place). */
  paramsToServer<T>(value: T): T {
    return rewrite(value, (uri) => this.toServer(uri) ?? uri) as T;
  }

  /** A server's answer as JSON text with its URIs made the editor's, or undefined when the text is not valid JSON. */
  textToClient(text: string): string | undefined {
    return translateJsonText(text, TEXT_KEYS, { from: ROOT_URI, to: this.clientRoot });
  }

  /**
   * A server's answer or notification with its URIs made the editor's (rewritten in place).
   * An answer names few distinct files many times (961 references in 320 files): each is
   * translated once, and the locations share the one string.
   */
  resultToClient<T>(value: T): T {
    return rewrite(value, this.memoToClient()) as T;
  }

  private memoToClient(): (uri: string) => string {
    const seen = new Map<string, string>();
    return (uri) => {
      let translated = seen.get(uri);
      if (translated === undefined) seen.set(uri, (translated = this.toClient(uri)));
      return translated;
    };
  }
}

function swapRoot(uri: string, from: string, to: string): string | undefined {
  if (uri === from) return to;
  if (uri.length > from.length && uri.charCodeAt(from.length) === 0x2f && uri.startsWith(from)) return to + uri.slice(from.length);
  return undefined;
}

/**
 * Rewrites in place: params and results are fresh objects parsed from one connection and
 * handed to the other, owned by nobody else (a copy of 961 locations cost more than the hop).
 */
function rewrite(value: unknown, map: (uri: string) => string): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (const item of value) rewrite(item, map);
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const name in record) {
    const item = record[name];
    if (typeof item === 'string') {
      if (URI_KEYS.has(name)) record[name] = map(item);
    } else if (item === null || typeof item !== 'object' || POSITION_KEYS.has(name) || OPAQUE_KEYS.has(name)) {
      continue;
    } else if (URI_MAP_KEYS.has(name) && !Array.isArray(item)) {
      const entries = Object.entries(item as Record<string, unknown>);
      for (const [uri] of entries) delete (item as Record<string, unknown>)[uri];
      for (const [uri, edits] of entries) (item as Record<string, unknown>)[map(uri)] = rewrite(edits, map);
    } else rewrite(item, map);
  }
  return record;
}
