import { closeSync, fstatSync, openSync } from 'node:fs';
import { decodeCursor, encodeCursor } from '../../core/cursor.js';
import { CodeBuddyError } from '../../core/errors.js';
import { pathGlob, pathGlobBase } from '../../core/path-glob.js';
import { fsError } from '../../files/fs-errors.js';
import { resolveInWorkspace } from '../../files/path-resolver.js';
import { readOpenFile } from '../../files/regular-file.js';
import { decodeText } from '../../files/text-content.js';
import { walkTree } from '../../files/tree-walker.js';
import { at, openWorkspaceFile, ParentDirectories, READ_FILE } from '../../files/workspace-handle.js';
import type { Workspace } from '../../workspaces/workspace.js';
import type { Grammar, GrammarManifest } from './grammar-manifest.js';
import { SyntaxWorkerLost, type SyntaxPool } from './syntax-pool.js';
import type { OutlineSymbol, QueryCapture } from './syntax-protocol.js';

export interface SyntaxLimits {
  /** Files larger than this are not parsed (an outline refuses, a query skips them). */
  maxFileBytes: number;
  outlinePageSize: number;
  queryPageSize: number;
  /** The whole of one code_query call, across files. */
  queryTimeoutMs: number;
  /** One file of a code_query, and one outline. */
  fileTimeoutMs: number;
  /** In-progress matches tree-sitter keeps per file (its `matchLimit`). */
  matchLimit: number;
}

export interface OutlinePage {
  path: string;
  language: string;
  symbols: OutlineSymbol[];
  total: number;
  next_cursor?: string;
}

export interface QueryPage {
  language: string;
  captures: (QueryCapture & { path: string })[];
  files_searched: number;
  /** Files left out or answered in part, and why. */
  incomplete: { path: string; reason: string }[];
  /** Why the page ended before its size: the call's time budget. */
  truncated?: string;
  next_cursor?: string;
}

/** What can be parsed of an open file: its text, or why not. */
type Source = { text: string } | { skipped: string };

/** The most incomplete files one answer lists. */
const MAX_INCOMPLETE = 20;

const seconds = (ms: number) => `${+(ms / 1000).toFixed(2)} s`;

/**
 * Tree-sitter over workspaces: outlines of one file and structural queries across many,
 * with no language server. Files are read through handles (never by name), parsed and
 * queried in the syntax pool's worker threads, each file and each call under a deadline.
 */
export class SyntaxService {
  constructor(
    private readonly manifest: GrammarManifest,
    private readonly pool: SyntaxPool,
    private readonly limits: SyntaxLimits,
  ) {}

  async outline(workspace: Workspace, input: { path: string; cursor?: string }): Promise<OutlinePage> {
    const { fd, relative } = openWorkspaceFile(workspace.root, input.path);
    let source: Source;
    try {
      const info = fstatSync(fd);
      if (!info.isFile()) throw new CodeBuddyError('E_NOT_A_FILE', `${relative} is not a regular file`, { field: 'path' });
      this.grammarFor(relative);
      if (info.size > this.limits.maxFileBytes) {
        throw new CodeBuddyError('E_TOO_LARGE', `${relative} is ${info.size} bytes; outlines stop at ${this.limits.maxFileBytes} (CODEBUDDY_SYNTAX_MAX_FILE_BYTES)`, { field: 'path' });
      }
      source = await this.readSource(fd, info.size);
    } catch (error) {
      throw fsError(error, relative);
    } finally {
      closeSync(fd);
    }
    const grammar = this.grammarFor(relative);
    if ('skipped' in source) throw new CodeBuddyError('E_UNSUPPORTED', `${relative} is ${source.skipped}: nothing to outline`, { field: 'path' });
    const skip = input.cursor === undefined ? 0 : this.outlineCursor(input.cursor, relative);

    const tooSlow = () => new CodeBuddyError('E_TOO_LARGE', `parsing ${relative} took longer than ${seconds(this.limits.fileTimeoutMs)}; it is too large or too convoluted to outline`, { field: 'path' });
    let symbols: OutlineSymbol[];
    try {
      const result = await this.pool.run({ kind: 'outline', language: grammar.name, text: source.text, budgetMs: this.limits.fileTimeoutMs });
      if (result.timedOut) throw tooSlow();
      symbols = result.symbols;
    } catch (error) {
      if (error instanceof SyntaxWorkerLost) throw error.reason === 'timeout' ? tooSlow() : new CodeBuddyError('E_INTERNAL', `the syntax worker failed on ${relative}`);
      throw error;
    }
    const page: OutlinePage = { path: relative, language: grammar.name, symbols: symbols.slice(skip, skip + this.limits.outlinePageSize), total: symbols.length };
    if (skip + this.limits.outlinePageSize < symbols.length) page.next_cursor = encodeCursor('code_outline', { p: relative, s: skip + this.limits.outlinePageSize });
    return page;
  }

  async query(workspace: Workspace, input: { query: string; language?: string; glob?: string; cursor?: string }, signal?: AbortSignal): Promise<QueryPage> {
    const grammar = this.queryGrammar(input.language, input.glob);
    const glob = input.glob?.replace(/^\.\//, '');
    const identity = JSON.stringify([grammar.name, input.query, glob ?? '']);
    let position = { index: 0, skip: 0 };
    let wantedPath: string | undefined;
    if (input.cursor !== undefined) {
      const state = decodeCursor<{ q: string; i: number; p: string; s: number }>('code_query', input.cursor);
      if (state.q !== identity) throw new CodeBuddyError('E_INVALID_CURSOR', 'that cursor belongs to another code_query', { field: 'cursor' });
      position = { index: state.i, skip: state.s };
      wantedPath = state.p;
    }
    // Refuses a broken query before any file is read, with tree-sitter's words and offset.
    await this.pool.run({ kind: 'compile', language: grammar.name, source: input.query, budgetMs: this.limits.fileTimeoutMs });

    const files = await this.candidates(workspace, grammar, glob);
    if (wantedPath !== undefined && files[position.index] !== wantedPath) {
      // The tree changed between pages: go on from the file the cursor named, or from its place.
      const moved = files.indexOf(wantedPath);
      if (moved >= 0) position.index = moved;
      else position.skip = 0;
    }

    const deadline = Date.now() + this.limits.queryTimeoutMs;
    const page: QueryPage = { language: grammar.name, captures: [], files_searched: 0, incomplete: [] };
    const note = (path: string, reason: string) => {
      if (page.incomplete.length < MAX_INCOMPLETE) page.incomplete.push({ path, reason });
    };
    const parents = new ParentDirectories(workspace.root);
    try {
      for (let index = position.index; index < files.length; index++) {
        const path = files[index]!;
        const skip = index === position.index ? position.skip : 0;
        if (signal?.aborted || Date.now() >= deadline) {
          page.truncated = signal?.aborted ? 'the call was cancelled' : `the time budget of ${seconds(this.limits.queryTimeoutMs)} ran out after ${page.files_searched} files`;
          page.next_cursor = encodeCursor('code_query', { q: identity, i: index, p: path, s: skip });
          break;
        }
        const source = await this.readCandidate(parents, path);
        if ('skipped' in source) {
          if (source.skipped !== 'binary') note(path, `skipped: ${source.skipped}`);
          continue;
        }
        page.files_searched++;
        const wanted = this.limits.queryPageSize - page.captures.length;
        let result;
        try {
          result = await this.pool.run({
            kind: 'query',
            language: grammar.name,
            source: input.query,
            text: source.text,
            skip,
            limit: wanted,
            matchLimit: this.limits.matchLimit,
            budgetMs: Math.max(1, Math.min(deadline - Date.now(), this.limits.fileTimeoutMs)),
          });
        } catch (error) {
          if (!(error instanceof SyntaxWorkerLost)) throw error;
          note(path, error.reason === 'timeout' ? 'skipped: the query ran past its time on this file' : 'skipped: the query failed on this file (out of memory?)');
          continue;
        }
        if (result.timedOut) {
          note(path, 'skipped: the query ran past its time on this file');
          continue;
        }
        if (result.exceededMatchLimit) note(path, `partial: more than ${this.limits.matchLimit} matches were in progress at once; some were dropped`);
        for (const capture of result.captures) page.captures.push({ path, ...capture });
        const answered = skip + result.captures.length;
        if (answered < result.total) {
          page.next_cursor = encodeCursor('code_query', { q: identity, i: index, p: path, s: answered });
          break;
        }
        if (page.captures.length >= this.limits.queryPageSize && index + 1 < files.length) {
          page.next_cursor = encodeCursor('code_query', { q: identity, i: index + 1, p: files[index + 1]!, s: 0 });
          break;
        }
      }
    } finally {
      parents.close();
    }
    return page;
  }

  /** The grammar a file's extension names, or E_UNSUPPORTED listing the extensions there are. */
  private grammarFor(path: string): Grammar {
    const grammar = this.manifest.forPath(path);
    if (!grammar) throw new CodeBuddyError('E_UNSUPPORTED', `no grammar parses ${path}; supported extensions: ${this.manifest.extensions.join(' ')}`, { field: 'path' });
    return grammar;
  }

  /** The language a query is written for: named, or read from the glob's extension. */
  private queryGrammar(language: string | undefined, glob: string | undefined): Grammar {
    if (language !== undefined) {
      const grammar = this.manifest.grammar(language);
      if (!grammar) throw new CodeBuddyError('E_INVALID_ARGUMENT', `no language "${language}"; one of: ${this.manifest.names.join(', ')}`, { field: 'language' });
      return grammar;
    }
    const extension = glob === undefined ? undefined : /(\.[A-Za-z0-9_+-]+)$/.exec(glob)?.[1];
    const grammar = extension === undefined ? undefined : this.manifest.forPath(`file${extension}`);
    if (!grammar) {
      throw new CodeBuddyError('E_INVALID_ARGUMENT', `name the query's language (one of: ${this.manifest.names.join(', ')}) or give a glob ending in its extension, like **/*.ts`, { field: 'language' });
    }
    return grammar;
  }

  /** Files the query runs over, in the walk's stable order: the glob's, in the language's extensions. */
  private async candidates(workspace: Workspace, grammar: Grammar, glob: string | undefined): Promise<string[]> {
    const matches = glob === undefined ? () => true : pathGlob(glob);
    const base = glob === undefined ? '' : pathGlobBase(glob);
    const walkFrom = base === '' ? '' : (await resolveInWorkspace(workspace.root, base)).relative;
    const entries = await walkTree(workspace.root, walkFrom);
    return entries.filter((entry) => entry.type === 'file' && this.manifest.forPath(entry.path) === grammar && matches(entry.path)).map((entry) => entry.path);
  }

  /** A walked file, opened from its directory's handle without following a link. */
  private async readCandidate(parents: ParentDirectories, path: string): Promise<Source> {
    let fd: number;
    try {
      const { dir, name } = parents.parentOf(path);
      fd = openSync(at(dir, name), READ_FILE);
    } catch {
      return { skipped: 'gone, or no longer a regular file' };
    }
    try {
      const info = fstatSync(fd);
      if (!info.isFile()) return { skipped: 'not a regular file' };
      if (info.size > this.limits.maxFileBytes) return { skipped: `${info.size} bytes, over the ${this.limits.maxFileBytes}-byte limit` };
      return await this.readSource(fd, info.size);
    } finally {
      closeSync(fd);
    }
  }

  private async readSource(fd: number, size: number): Promise<Source> {
    const text = decodeText(await readOpenFile(fd, size));
    return text === undefined ? { skipped: 'binary' } : { text };
  }

  private outlineCursor(cursor: string, relative: string): number {
    const state = decodeCursor<{ p: string; s: number }>('code_outline', cursor);
    if (state.p !== relative) throw new CodeBuddyError('E_INVALID_CURSOR', `that cursor belongs to ${state.p}`, { field: 'cursor' });
    return state.s;
  }
}
