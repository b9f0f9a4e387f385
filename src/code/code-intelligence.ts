import type { Diagnostic, DocumentSymbol, Hover, Location, LocationLink, Position, Range, SymbolInformation, WorkspaceSymbol } from 'vscode-languageserver-protocol';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { CodeBuddyError } from '../core/errors.js';
import type { FileService } from '../files/file-service.js';
import { decodeText, splitLines } from '../files/text-content.js';
import { walkTree } from '../files/tree-walker.js';
import { treeResidentBytes } from '../workspaces/runtimes/process-tree.js';
import type { Workspace } from '../workspaces/workspace.js';
import { hoverText } from './hover-text.js';
import type { LanguageServerConnection } from './language-server-connection.js';
import type { LanguageServerPool } from './language-server-pool.js';
import type { ManagedLanguageServer, VersionedDiagnostics } from './managed-language-server.js';
import type { ServerRegistry, ServerSpec } from './server-registry.js';
import { flattenOutline, matchNamePath, matchWorkspaceSymbols, type OutlineEntry } from './symbol-path.js';
import { pathOf } from './workspace-uri.js';

/** Where a request is aimed: a 1-based line and column in a file, or a symbol's name path (with or without its file). */
export interface Target {
  path?: string | undefined;
  line?: number | undefined;
  column?: number | undefined;
  symbol?: string | undefined;
}

/** A place in code, as answers show it: 1-based, workspace-relative (or external), with its line's text. */
export interface CodeLocation {
  path: string;
  external: boolean;
  line: number;
  column: number;
  end_line: number;
  end_column: number;
  text: string;
}

export interface DiagnosticEntry {
  path: string;
  line: number;
  column: number;
  end_line: number;
  end_column: number;
  severity: 'error' | 'warning' | 'info' | 'hint';
  message: string;
  code?: string;
  source?: string;
}

export interface CodeSettings {
  requestTimeoutMs: number;
  pageSize: number;
  /** Most files `code_diagnostics` without a path opens. */
  workspaceDiagnosticsFiles: number;
}

const MAX_LINE_TEXT = 200;
const SEVERITY = ['error', 'error', 'warning', 'info', 'hint'] as const;
/** Directories a workspace-wide pass never opens files in: dependencies and caches, not the project's code. */
const NOT_SOURCE = /(^|\/)(node_modules|\.git|\.venv|venv|__pycache__|dist|build|\.mypy_cache)\//;
const PARALLEL_FILES = 8;
/** Files a name path given without its file is looked for in. */
const MAX_SYMBOL_FILES = 20;

/** One page of a list computed whole, with a cursor bound to the query it came from. */
function page<T>(kind: string, query: string, all: readonly T[], size: number, cursor: string | undefined): { items: T[]; next_cursor?: string; total: number } {
  let skip = 0;
  if (cursor !== undefined) {
    const state = decodeCursor<{ q: string; skip: number }>(kind, cursor);
    if (state.q !== query) throw new CodeBuddyError('E_INVALID_CURSOR', `that cursor belongs to another ${kind} query`, { field: 'cursor' });
    skip = state.skip;
  }
  const items = all.slice(skip, skip + size);
  return skip + size < all.length ? { items, next_cursor: encodeCursor(kind, { q: query, skip: skip + size }), total: all.length } : { items, total: all.length };
}

function asLocations(result: Location | Location[] | LocationLink[] | null | undefined): { uri: string; range: Range }[] {
  if (!result) return [];
  const list = Array.isArray(result) ? result : [result];
  return list.map((item) => ('targetUri' in item ? { uri: item.targetUri, range: item.targetSelectionRange } : { uri: item.uri, range: item.range }));
}

/** What a call learned along the way that the agent should know (a slow server, a capped pass). */
type Notes = string[];

/**
 * The code tools' answers, from the workspace's language servers (language-server-pool.ts):
 * positions and symbols resolved, documents brought up to date first, results mapped back to
 * workspace paths with their lines' text, diagnostics tied to the version they belong to.
 */
export class CodeIntelligence {
  constructor(
    private readonly registry: ServerRegistry,
    private readonly pool: LanguageServerPool,
    private readonly files: FileService,
    private readonly settings: CodeSettings,
  ) {}

  private serverFor(workspace: Workspace, path: string): { spec: ServerSpec; languageId: string } {
    const match = this.registry.forPath(path, workspace.runtime);
    if (!match) throw new CodeBuddyError('E_UNSUPPORTED', `no language server for ${path} in a ${workspace.runtime} workspace (servers: ${this.registry.all().map((spec) => spec.id).join(', ')})`, { field: 'path' });
    return match;
  }

  /** The server, running, with every open document up to date and this one opened. */
  private async document(workspace: Workspace, path: string, notes: Notes) {
    const relative = (await this.files.resolve(workspace, path)).relative;
    const { spec, languageId } = this.serverFor(workspace, relative);
    const server = this.pool.server(workspace, spec);
    const connection = await server.connect();
    await server.refresh(connection);
    const document = await server.open(connection, relative, languageId);
    const note = await server.untilReady(connection, document);
    if (note) notes.push(note);
    const buffer = server.bufferState(document.path);
    if (buffer?.unsaved) notes.push(`${document.path}: answered on an editor's unsaved buffer (version ${buffer.version}), not the file on disk`);
    return { server, connection, document };
  }

  /** The file and position a target designates. */
  private async position(workspace: Workspace, target: Target, notes: Notes) {
    if (target.symbol !== undefined) return this.symbolPosition(workspace, target.symbol, target.path, notes);
    if (target.path === undefined || target.line === undefined || target.column === undefined) {
      throw new CodeBuddyError('E_INVALID_ARGUMENT', 'give path with line and column, or symbol (a name path such as Cart.addItem, optionally with path)', { field: target.path === undefined ? 'path' : target.line === undefined ? 'line' : 'column' });
    }
    const at = await this.document(workspace, target.path, notes);
    const lines = splitLines(at.document.text);
    if (target.line > lines.length) throw new CodeBuddyError('E_INVALID_ARGUMENT', `${at.document.path} has ${lines.length} lines`, { field: 'line' });
    const length = lines[target.line - 1]!.length;
    if (target.column > length + 1) throw new CodeBuddyError('E_INVALID_ARGUMENT', `line ${target.line} of ${at.document.path} has ${length} columns`, { field: 'column' });
    return { ...at, position: { line: target.line - 1, character: target.column - 1 } satisfies Position };
  }

  /**
   * The server, its connection, the open document and the position a target designates, its
   * open documents brought up to date first: what a caller beyond the code tools (a rename
   * through the language server) starts from. `notes` says what the wait for it learned.
   */
  async locate(workspace: Workspace, target: Target) {
    const notes: Notes = [];
    return { ...(await this.position(workspace, target, notes)), notes };
  }

  /** A document's outline; its text places the names of flat symbols (see flattenOutline). */
  private async outline(connection: LanguageServerConnection, document: { uri: string; text: string }): Promise<OutlineEntry[]> {
    const { uri, text } = document;
    const symbols = await connection.request<(DocumentSymbol | SymbolInformation)[] | null>('textDocument/documentSymbol', { textDocument: { uri } }, this.settings.requestTimeoutMs);
    return flattenOutline(symbols ?? [], text);
  }

  /**
   * A name path (`Cart.addItem`) to the position of its name: through the file's outline
   * when a path is given, else through workspace symbols (then that file's outline, for the
   * exact position of the name).
   */
  private async symbolPosition(workspace: Workspace, symbol: string, path: string | undefined, notes: Notes) {
    const files = path !== undefined ? [path] : await this.filesDeclaring(workspace, symbol, notes);
    const found = [];
    for (const file of files) {
      const at = await this.document(workspace, file, notes);
      const entries = matchNamePath(await this.outline(at.connection, at.document), symbol);
      if (entries.length > 1 && new Set(entries.map((entry) => entry.namePath)).size > 1) {
        throw new CodeBuddyError('E_INVALID_ARGUMENT', `${symbol} is ambiguous in ${at.document.path}: ${entries.slice(0, 10).map((entry) => entry.namePath).join(', ')}`, { field: 'symbol' });
      }
      if (entries.length > 0) found.push({ ...at, position: entries[0]!.selection.start });
    }
    if (found.length === 0) throw new CodeBuddyError('E_NOT_FOUND', `no symbol ${symbol} in ${path ?? 'the workspace'}`, { field: 'symbol' });
    if (found.length > 1) {
      const candidates = found.map((at) => at.document.path);
      throw new CodeBuddyError('E_INVALID_ARGUMENT', `${symbol} is in several files (${candidates.join(', ')}); give path`, { field: 'symbol', candidates });
    }
    return found[0]!;
  }

  /**
   * The workspace files that may declare a name path, from workspace symbols: by name and
   * container where the server names containers (pyright), by name alone where it does not
   * (typescript-language-server); the caller checks each file's outline for the whole path.
   */
  private async filesDeclaring(workspace: Workspace, symbol: string, notes: Notes): Promise<string[]> {
    const name = symbol.split('.').at(-1)!;
    let found: SymbolInformation[];
    try {
      found = (await this.workspaceSymbols(workspace, name, notes)).map((entry) => entry.symbol);
    } catch (error) {
      // pylsp has no workspace symbols: without a file, there is nowhere to look the name up.
      if (error instanceof CodeBuddyError && error.code === 'E_UNSUPPORTED' && error.details?.method === 'workspace/symbol') {
        throw new CodeBuddyError('E_UNSUPPORTED', `${error.message}, so ${symbol} cannot be looked up across the workspace: give path (the file declaring it)`, { ...error.details, field: 'path' });
      }
      throw error;
    }
    const byContainer = matchWorkspaceSymbols(found, symbol);
    const candidates = byContainer.length > 0 ? byContainer : matchWorkspaceSymbols(found, name);
    const inside = candidates.map((candidate) => pathOf(candidate.location.uri)).filter((mapped) => mapped.inside);
    return [...new Set(inside.map((mapped) => mapped.path))].slice(0, MAX_SYMBOL_FILES);
  }

  /** Lines of the files results point into, read once per call (open documents as last sent). */
  private lineReader(workspace: Workspace, server: ManagedLanguageServer | undefined) {
    const cache = new Map<string, Promise<string[] | undefined>>();
    return (path: string): Promise<string[] | undefined> => {
      let lines = cache.get(path);
      if (!lines) {
        const open = server?.documentText(path);
        lines =
          open !== undefined
            ? Promise.resolve(splitLines(open))
            : this.files
                .readIfChanged(workspace, path)
                .then((state) => {
                  const text = state.content && decodeText(state.content);
                  return text === undefined ? undefined : splitLines(text);
                })
                .catch(() => undefined);
        cache.set(path, lines);
      }
      return lines;
    };
  }

  /** Where the server pointed, as workspace locations in a stable order: the workspace's files first, by path and position; duplicates (a server answering twice) once. */
  private placed(found: { uri: string; range: Range }[]): Omit<CodeLocation, 'text'>[] {
    const seen = new Set<string>();
    return found
      .map(({ uri, range }) => {
        const mapped = pathOf(uri);
        return { path: mapped.path, external: !mapped.inside, line: range.start.line + 1, column: range.start.character + 1, end_line: range.end.line + 1, end_column: range.end.character + 1 };
      })
      .sort((a, b) => Number(a.external) - Number(b.external) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) || a.line - b.line || a.column - b.column)
      .filter((location) => {
        const key = `${location.external}:${location.path}:${location.line}:${location.column}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
  }

  /** Each location with the text of its line: read only for what is answered (a page), each file once. */
  private async withText(workspace: Workspace, server: ManagedLanguageServer, locations: Omit<CodeLocation, 'text'>[]): Promise<CodeLocation[]> {
    const linesOf = this.lineReader(workspace, server);
    return Promise.all(
      locations.map(async (location) => {
        const line = location.external ? undefined : (await linesOf(location.path))?.[location.line - 1];
        return { ...location, text: line === undefined ? '' : line.trim().slice(0, MAX_LINE_TEXT) };
      }),
    );
  }

  async definition(workspace: Workspace, target: Target) {
    const notes: Notes = [];
    const at = await this.position(workspace, target, notes);
    const result = await at.connection.request<Location | Location[] | LocationLink[] | null>('textDocument/definition', { textDocument: { uri: at.document.uri }, position: at.position }, this.settings.requestTimeoutMs);
    return { from: this.from(at), locations: await this.withText(workspace, at.server, this.placed(asLocations(result))), notes };
  }

  async references(workspace: Workspace, target: Target & { include_declaration?: boolean | undefined; cursor?: string | undefined }) {
    const notes: Notes = [];
    const at = await this.position(workspace, target, notes);
    const includeDeclaration = target.include_declaration ?? true;
    const result = await at.connection.request<Location[] | null>('textDocument/references', { textDocument: { uri: at.document.uri }, position: at.position, context: { includeDeclaration } }, this.settings.requestTimeoutMs);
    const query = JSON.stringify([at.document.path, at.position, includeDeclaration]);
    const { items, next_cursor, total } = page('code_references', query, this.placed(asLocations(result)), this.settings.pageSize, target.cursor);
    return { from: this.from(at), references: await this.withText(workspace, at.server, items), total, ...(next_cursor ? { next_cursor } : {}), notes };
  }

  async hover(workspace: Workspace, target: Target) {
    const notes: Notes = [];
    const at = await this.position(workspace, target, notes);
    const result = await at.connection.request<Hover | null>('textDocument/hover', { textDocument: { uri: at.document.uri }, position: at.position }, this.settings.requestTimeoutMs);
    const range = result?.range;
    return {
      from: this.from(at),
      text: hoverText(result),
      ...(range ? { range: { line: range.start.line + 1, column: range.start.character + 1, end_line: range.end.line + 1, end_column: range.end.character + 1 } } : {}),
      notes,
    };
  }

  private from(at: { document: { path: string }; position: Position }) {
    return { path: at.document.path, line: at.position.line + 1, column: at.position.character + 1 };
  }

  /**
   * Diagnostics of a file, or of the workspace: every source file a relevant server covers
   * (dependencies and caches left out), opened up to `workspaceDiagnosticsFiles`, the answer
   * saying how many were checked and whether the cap cut the pass.
   */
  async diagnostics(workspace: Workspace, input: { path?: string | undefined; cursor?: string | undefined }) {
    const notes: Notes = [];
    const files: { path: string; version: number; fresh: boolean }[] = [];
    const entries: DiagnosticEntry[] = [];
    const add = (result: VersionedDiagnostics) => {
      files.push({ path: result.path, version: result.version, fresh: result.fresh });
      if (result.note) notes.push(result.note);
      for (const item of result.items) entries.push(toEntry(result.path, item));
    };
    let checked = 0;
    let skipped = 0;
    if (input.path !== undefined) {
      const at = await this.document(workspace, input.path, notes);
      add(await at.server.diagnostics(at.connection, at.document));
      checked = 1;
    } else {
      const { paths, more } = await this.sourceFiles(workspace);
      skipped = more;
      let next = 0;
      const worker = async () => {
        while (next < paths.length) {
          const path = paths[next++]!;
          const at = await this.document(workspace, path, notes);
          add(await at.server.diagnostics(at.connection, at.document));
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL_FILES, paths.length) }, worker));
      checked = paths.length;
      if (skipped > 0) notes.push(`checked the first ${checked} source files; ${skipped} more were not (codeDiagnosticsMaxFiles); pass path for those`);
    }
    files.sort((a, b) => (a.path < b.path ? -1 : 1));
    entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line || a.column - b.column));
    const query = JSON.stringify([input.path ?? null, files.map((file) => [file.path, file.version])]);
    const { items, next_cursor, total } = page('code_diagnostics', query, entries, this.settings.pageSize, input.cursor);
    return { files, checked, not_checked: skipped, diagnostics: items, total, ...(next_cursor ? { next_cursor } : {}), notes: [...new Set(notes)] };
  }

  /** The workspace's source files some server here covers, in path order, up to the cap. */
  private async sourceFiles(workspace: Workspace): Promise<{ paths: string[]; more: number }> {
    const entries = await walkTree(workspace.root, '');
    const covered = entries.filter((entry) => entry.type === 'file' && !NOT_SOURCE.test(entry.path) && this.registry.forPath(entry.path, workspace.runtime) !== undefined).map((entry) => entry.path);
    return { paths: covered.slice(0, this.settings.workspaceDiagnosticsFiles), more: Math.max(0, covered.length - this.settings.workspaceDiagnosticsFiles) };
  }

  /** Workspace symbols from every relevant server; a server with no document open is given one first (tsserver needs a project). */
  private async workspaceSymbols(workspace: Workspace, query: string, notes: Notes): Promise<{ spec: ServerSpec; server: ManagedLanguageServer; symbol: SymbolInformation }[]> {
    const specs = await this.pool.relevant(workspace);
    if (specs.length === 0) throw new CodeBuddyError('E_UNSUPPORTED', 'no language server concerns this workspace (no root marker such as tsconfig.json or pyproject.toml); give path', { field: 'path' });
    const out: { spec: ServerSpec; server: ManagedLanguageServer; symbol: SymbolInformation }[] = [];
    let refused: CodeBuddyError | undefined;
    for (const spec of specs) {
      const server = this.pool.server(workspace, spec);
      let connection = await server.connect();
      if (server.openDocuments === 0) {
        const first = (await this.sourceFiles(workspace)).paths.find((path) => this.registry.covers(spec, path));
        if (first) connection = (await this.document(workspace, first, notes)).connection;
      }
      await server.refresh(connection);
      try {
        const found = await connection.request<(SymbolInformation | WorkspaceSymbol)[] | null>('workspace/symbol', { query }, this.settings.requestTimeoutMs);
        for (const symbol of found ?? []) if ('range' in symbol.location) out.push({ spec, server, symbol: symbol as SymbolInformation });
      } catch (error) {
        if (error instanceof CodeBuddyError && error.code === 'E_UNSUPPORTED') refused = error;
        else throw error;
      }
    }
    if (out.length === 0 && refused) throw refused;
    return out;
  }

  /** A file's outline ({path}) or the workspace's symbols matching a query ({query}). */
  async symbols(workspace: Workspace, input: { path?: string | undefined; query?: string | undefined; cursor?: string | undefined }) {
    const notes: Notes = [];
    type Row = { name_path: string; kind: string; path: string; external: boolean; line: number; column: number; end_line: number; end_column: number };
    let rows: Row[];
    if (input.path !== undefined) {
      const at = await this.document(workspace, input.path, notes);
      rows = (await this.outline(at.connection, at.document)).map((entry) => ({
        name_path: entry.namePath,
        kind: kindName(entry.kind),
        path: at.document.path,
        external: false,
        line: entry.selection.start.line + 1,
        column: entry.selection.start.character + 1,
        end_line: entry.range.end.line + 1,
        end_column: entry.range.end.character + 1,
      }));
    } else if (input.query !== undefined) {
      const found = await this.workspaceSymbols(workspace, input.query, notes);
      rows = found
        .map(({ symbol }) => {
          const mapped = pathOf(symbol.location.uri);
          const container = symbol.containerName ? `${symbol.containerName}.` : '';
          const { start, end } = symbol.location.range;
          return { name_path: `${container}${symbol.name}`, kind: kindName(symbol.kind), path: mapped.path, external: !mapped.inside, line: start.line + 1, column: start.character + 1, end_line: end.line + 1, end_column: end.character + 1 };
        })
        .sort((a, b) => Number(a.external) - Number(b.external) || (a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line));
    } else {
      throw new CodeBuddyError('E_INVALID_ARGUMENT', 'give path (a file outline) or query (workspace symbols)', { field: 'path' });
    }
    const query = JSON.stringify([input.path ?? null, input.query ?? null]);
    const { items, next_cursor, total } = page('code_symbols', query, rows, this.settings.pageSize, input.cursor);
    return { symbols: items, total, ...(next_cursor ? { next_cursor } : {}), notes };
  }

  /** Every server this workspace has or would use, with its state, restarts and memory. */
  async status(workspace: Workspace) {
    const made = new Map(this.pool.of(workspace.id).map((server) => [server.spec.id, server]));
    const relevant = new Set((await this.pool.relevant(workspace)).map((spec) => spec.id));
    const ids = [...new Set([...relevant, ...made.keys()])].sort();
    return {
      servers: ids.map((id) => {
        const server = made.get(id);
        const state = server?.state ?? 'stopped';
        const pid = server && state !== 'stopped' && state !== 'crashed' ? server.pid : undefined;
        const memory = pid === undefined ? null : (treeResidentBytes(pid) ?? null);
        return {
          id,
          state,
          restarts: server?.restarts ?? 0,
          memory_bytes: memory,
          open_documents: server?.openDocuments ?? 0,
          ...(server?.lastCrash ? { last_crash: server.lastCrash.reason } : {}),
          last_stderr: state === 'crashed' ? (server?.lastStderr ?? []) : [],
        };
      }),
    };
  }
}

function toEntry(path: string, item: Diagnostic): DiagnosticEntry {
  return {
    path,
    line: item.range.start.line + 1,
    column: item.range.start.character + 1,
    end_line: item.range.end.line + 1,
    end_column: item.range.end.character + 1,
    severity: SEVERITY[item.severity ?? 1] ?? 'error',
    message: (typeof item.message === 'string' ? item.message : item.message.value).slice(0, 2000),
    ...(item.code !== undefined ? { code: String(item.code) } : {}),
    ...(item.source ? { source: item.source } : {}),
  };
}

const KINDS = ['', 'file', 'module', 'namespace', 'package', 'class', 'method', 'property', 'field', 'constructor', 'enum', 'interface', 'function', 'variable', 'constant', 'string', 'number', 'boolean', 'array', 'object', 'key', 'null', 'enum member', 'struct', 'event', 'operator', 'type parameter'];

function kindName(kind: number): string {
  return KINDS[kind] ?? 'symbol';
}
