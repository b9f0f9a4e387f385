import { spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { CodeBuddyError } from '../core/errors.js';
import { compileSafeRegex } from '../core/safe-regex.js';
import type { Workspace } from '../workspaces/workspace.js';
import { resolveExisting } from './path-resolver.js';
import { decodeText, splitLines } from './text-content.js';
import { walkTree } from './tree-walker.js';

export interface SearchInput {
  pattern: string;
  regex?: boolean;
  ignore_case?: boolean;
  glob?: string;
  path?: string;
  context?: number;
  cursor?: string;
}

export interface SearchMatch {
  path: string;
  line: number;
  text: string;
  before?: string[];
  after?: string[];
}

export interface SearchPage {
  matches: SearchMatch[];
  /** Matches found in all, up to the collection cap. */
  total: number;
  /** True when the search stopped at the cap: there are more matches than `total`. */
  capped: boolean;
  next_cursor?: string;
}

/** One file's matching and context lines, keyed by line number. */
interface FileLines {
  matches: number[];
  text: Map<number, string>;
}

type Collected = Map<string, FileLines>;

const MAX_MATCHES = 20_000;
const MAX_LINE_CHARS = 500;

const clip = (text: string) => (text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS)}…` : text);

let ripgrepOnPath: boolean | undefined;
function hasRipgrep(): boolean {
  ripgrepOnPath ??= spawnSync('rg', ['--version'], { stdio: 'ignore' }).status === 0;
  return ripgrepOnPath;
}

/**
 * Content search over a workspace: ripgrep when it is on PATH (fast, parallel), a
 * built-in walk otherwise; both honour .gitignore, skip binary files, and answer in
 * path-then-line order so pages are stable.
 */
export class TextSearch {
  constructor(private readonly options: { engine: 'auto' | 'ripgrep' | 'builtin'; pageSize: number; maxFileBytes: number }) {}

  get engine(): 'ripgrep' | 'builtin' {
    if (this.options.engine === 'auto') return hasRipgrep() ? 'ripgrep' : 'builtin';
    return this.options.engine;
  }

  async search(workspace: Workspace, input: SearchInput, signal?: AbortSignal): Promise<SearchPage> {
    const start = await resolveExisting(workspace.root, input.path ?? '', 'any');
    const context = input.context ?? 0;
    const query = JSON.stringify([input.pattern, !!input.regex, !!input.ignore_case, input.glob ?? '', start.relative, context]);
    let skip = 0;
    if (input.cursor !== undefined) {
      const state = decodeCursor<{ q: string; skip: number }>('file_search', input.cursor);
      if (state.q !== query) throw new CodeBuddyError('E_INVALID_CURSOR', 'that cursor belongs to another file_search query', { field: 'cursor' });
      skip = state.skip;
    }
    const collected =
      this.engine === 'ripgrep'
        ? await this.ripgrep(workspace.root, start.relative, input, context, signal)
        : await this.builtin(workspace.root, start.relative, start.isDirectory, input, context);

    const all = flatten(collected, context);
    const page: SearchPage = { matches: all.slice(skip, skip + this.options.pageSize), total: all.length, capped: all.length >= MAX_MATCHES };
    if (skip + this.options.pageSize < all.length) page.next_cursor = encodeCursor('file_search', { q: query, skip: skip + this.options.pageSize });
    return page;
  }

  private async ripgrep(root: string, start: string, input: SearchInput, context: number, signal?: AbortSignal): Promise<Collected> {
    const args = ['--json', '--hidden', '--no-require-git', '--glob', '!.git', '--max-filesize', String(this.options.maxFileBytes)];
    if (!input.regex) args.push('--fixed-strings');
    if (input.ignore_case) args.push('--ignore-case');
    if (context > 0) args.push('--context', String(context));
    if (input.glob) args.push('--glob', input.glob);
    // After `--` the pattern is positional, so one that starts with `-` is not read as a flag.
    args.push('--', input.pattern, start === '' ? '.' : start);

    const child = spawn('rg', args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], signal });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk.slice(0, 4000)));
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on('close', resolve);
      child.on('error', reject);
    });

    const collected: Collected = new Map();
    let matches = 0;
    for await (const line of createInterface({ input: child.stdout })) {
      const event = JSON.parse(line) as { type: string; data: { path?: { text?: string }; lines?: { text?: string }; line_number?: number } };
      if (event.type !== 'match' && event.type !== 'context') continue;
      const path = event.data.path?.text;
      const text = event.data.lines?.text;
      const number = event.data.line_number;
      if (path === undefined || text === undefined || number === undefined) continue; // non-UTF-8 names or content
      const file = fileEntry(collected, path.startsWith('./') ? path.slice(2) : path);
      file.text.set(number, text.replace(/\r?\n$/, ''));
      if (event.type === 'match') {
        file.matches.push(number);
        if (++matches >= MAX_MATCHES) {
          child.kill();
          break;
        }
      }
    }
    const code = await exited.catch((error: unknown) => {
      if ((error as Error).name === 'AbortError') throw new CodeBuddyError('E_INVALID_ARGUMENT', 'search cancelled');
      throw error;
    });
    if (code === 2 && matches === 0 && /regex parse error|error parsing glob|unrecognized/i.test(stderr)) {
      throw new CodeBuddyError('E_INVALID_ARGUMENT', `invalid pattern: ${stderr.trim().split('\n').slice(-3).join(' ')}`, { field: /glob/i.test(stderr) ? 'glob' : 'pattern' });
    }
    return collected;
  }

  private async builtin(root: string, start: string, startIsDirectory: boolean, input: SearchInput, context: number): Promise<Collected> {
    // Linear time: an agent's pattern must not backtrack for seconds on a crafted line.
    const matcher = compileSafeRegex(input.pattern, { field: 'pattern', literal: !input.regex, ignoreCase: !!input.ignore_case });
    const globMatches = input.glob ? picomatch(input.glob, { dot: true, basename: !input.glob.includes('/') }) : undefined;
    const prefix = !startIsDirectory ? start.lastIndexOf('/') + 1 : start === '' ? 0 : start.length + 1;
    const collected: Collected = new Map();
    let matches = 0;
    const entries = startIsDirectory ? await walkTree(root, start) : [{ path: start, type: 'file' as const }];
    for (const entry of entries) {
      if (entry.type !== 'file' || (globMatches && !globMatches(entry.path.slice(prefix)))) continue;
      const buffer = await readFile(join(root, entry.path)).catch(() => undefined);
      if (!buffer || buffer.length > this.options.maxFileBytes) continue;
      const text = decodeText(buffer);
      if (text === undefined) continue;
      const lines = splitLines(text);
      lines.forEach((line, index) => {
        if (matches >= MAX_MATCHES || !matcher.test(line)) return;
        matches++;
        const file = fileEntry(collected, entry.path);
        file.matches.push(index + 1);
        for (let n = Math.max(0, index - context); n <= Math.min(lines.length - 1, index + context); n++) file.text.set(n + 1, lines[n]!);
      });
      if (matches >= MAX_MATCHES) break;
    }
    return collected;
  }
}

function fileEntry(collected: Collected, path: string): FileLines {
  let file = collected.get(path);
  if (!file) collected.set(path, (file = { matches: [], text: new Map() }));
  return file;
}

/** Matches in path-then-line order, each with the context lines the engine reported around it. */
function flatten(collected: Collected, context: number): SearchMatch[] {
  const paths = [...collected.keys()].sort();
  const out: SearchMatch[] = [];
  for (const path of paths) {
    const file = collected.get(path)!;
    for (const line of file.matches.sort((a, b) => a - b)) {
      const match: SearchMatch = { path, line, text: clip(file.text.get(line) ?? '') };
      if (context > 0) {
        const around = (from: number, to: number) => {
          const lines: string[] = [];
          for (let n = from; n <= to; n++) {
            const text = file.text.get(n);
            if (text !== undefined) lines.push(clip(text));
          }
          return lines;
        };
        match.before = around(Math.max(1, line - context), line - 1);
        match.after = around(line + 1, line + context);
      }
      out.push(match);
    }
  }
  return out;
}
