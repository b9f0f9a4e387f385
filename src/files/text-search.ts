import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { pathGlob } from '../core/path-glob.js';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { CodeBuddyError } from '../core/errors.js';
import { compileSafeRegex } from '../core/safe-regex.js';
import type { Workspace } from '../workspaces/workspace.js';
import { resolveExisting } from './path-resolver.js';
import { readRegularFileAt } from './regular-file.js';
import { decodeText, splitLines } from './text-content.js';
import { walkTree, WalkExclusion } from './tree-walker.js';
import { ParentDirectories } from './workspace-handle.js';

export interface SearchInput {
  pattern: string;
  regex?: boolean;
  ignore_case?: boolean;
  glob?: string;
  path?: string;
  context?: number;
  cursor?: string;
}

type SearchStart = { relative: string; isDirectory: boolean; isFile: boolean };

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
/** How long one search may run before ripgrep is killed (a file swapped for a FIFO mid-search would block it for ever). */
const DEFAULT_TIMEOUT_MS = 30_000;
/** Ignored directories one search may tell ripgrep to skip, and workspaces remembered. */
const MAX_PRUNED_DIRECTORIES = 200;
const MAX_REMEMBERED_ROOTS = 256;
/** How long a walk's ignored directories serve as a hint before a search walks again. */
const HINT_TTL_MS = 30_000;
/** Bytes of file names per ripgrep run: well under Linux's argument limits (2 MiB in all, 128 KiB per argument). */
const MAX_ARGUMENT_BYTES = 256 * 1024;

const clip = (text: string) => (text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS)}…` : text);

let ripgrepOnPath: boolean | undefined;
function hasRipgrep(): boolean {
  ripgrepOnPath ??= spawnSync('rg', ['--version'], { stdio: 'ignore' }).status === 0;
  return ripgrepOnPath;
}

/**
 * Content search over a workspace: ripgrep when it is on PATH (fast, parallel), a
 * built-in scan otherwise; both search the same files, skip binary files, and answer in
 * path-then-line order so pages are stable.
 *
 * Which files: those the server's own walk (tree-walker.ts) lists, which reads each
 * .gitignore safely (a regular file of sane size, through directory handles) and never
 * follows a symlink. ripgrep runs as the server's user and, left to honour ignore files,
 * would open every .gitignore (and .ignore, and those of the directories above the
 * workspace) by name: following a symlinked one to a host file (an oracle on its
 * content, or /dev/zero), or blocking for ever on a FIFO. So it reads none (--no-ignore,
 * --no-config, --no-follow), and:
 *
 * - the first search of a workspace (and one on a single file, or once the hint below is
 *   stale) walks first and gives ripgrep the walk's files as explicit paths;
 * - later ones let ripgrep walk on its own, told to skip the directories the last walk
 *   found ignored (`--glob !/dir/`: a speed hint only), and judge each file it reports a
 *   match in by the walk's own rules (WalkExclusion: the .gitignore files on that file's
 *   way only). That costs about what ripgrep alone does; a full walk first would add
 *   about half again.
 *
 * Either way the results equal the built-in engine's.
 *
 * ripgrep still opens files by name. A directory swapped for a symlink between the walk
 * and its open would make it read a host file; so every file it reports a match in is
 * read again through handles and its reported lines compared, and a file whose lines
 * differ is dropped. A timeout kills ripgrep whatever it is blocked on.
 */
export class TextSearch {
  private readonly timeoutMs: number;
  /** Per workspace root, the directories its last walk skipped as ignored, and when (see above). */
  private readonly ignoredByRoot = new Map<string, { directories: string[]; at: number }>();

  constructor(private readonly options: { engine: 'auto' | 'ripgrep' | 'builtin'; pageSize: number; maxFileBytes: number; timeoutMs?: number }) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

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
        ? await this.ripgrep(workspace.root, start, input, context, signal)
        : await this.builtin(workspace.root, await this.candidates(workspace.root, start, input.glob), input, context);

    const all = flatten(collected, context);
    const page: SearchPage = { matches: all.slice(skip, skip + this.options.pageSize), total: all.length, capped: all.length >= MAX_MATCHES };
    if (skip + this.options.pageSize < all.length) page.next_cursor = encodeCursor('file_search', { q: query, skip: skip + this.options.pageSize });
    return page;
  }

  /**
   * The files to search, in walk order: .gitignore honoured, the glob matched against
   * paths relative to the start directory. A single file only if it is a regular one
   * (ripgrep would block on a FIFO).
   */
  private async candidates(root: string, start: SearchStart, glob: string | undefined, ignoredDirectories?: string[]): Promise<string[]> {
    if (!start.isDirectory && !start.isFile) return [];
    const matchesGlob = globFilter(start, glob);
    const entries = start.isDirectory ? await walkTree(root, start.relative, { ignoredDirectories }) : [{ path: start.relative, type: 'file' as const }];
    return entries.filter((entry) => entry.type === 'file' && matchesGlob(entry.path)).map((entry) => entry.path);
  }

  private async ripgrep(root: string, start: SearchStart, input: SearchInput, context: number, signal?: AbortSignal): Promise<Collected> {
    const flags = ['--json', '--no-config', '--no-ignore', '--no-follow', '--hidden', '--max-filesize', String(this.options.maxFileBytes)];
    if (!input.regex) flags.push('--fixed-strings');
    if (input.ignore_case) flags.push('--ignore-case');
    if (context > 0) flags.push('--context', String(context));
    const collected: Collected = new Map();
    const deadline = Date.now() + this.timeoutMs;
    // After `--` the pattern is positional, so one that starts with `-` is not read as a flag.
    // Every path is spelled ./path: a file called `-` is a file, not stdin, and answers are cut by the same prefix.
    const run = (paths: string[]) => this.ripgrepRun(root, [...flags, '--', input.pattern, ...paths], collected, deadline, signal);

    const hint = this.ignoredByRoot.get(root);
    if (start.isDirectory && hint && Date.now() - hint.at < HINT_TTL_MS) {
      flags.push('--glob', '!.git', ...hint.directories.flatMap((dir) => ['--glob', `!/${dir.replace(/[*?[\]{}\\!]/g, '\\$&')}/`]));
      await run([start.relative === '' ? '.' : `./${start.relative}`]);
      const exclusion = new WalkExclusion(root);
      const matchesGlob = globFilter(start, input.glob);
      for (const path of [...collected.keys()]) if (!matchesGlob(path) || (await exclusion.excludes(path, start.relative))) collected.delete(path);
    } else {
      const ignored: string[] = [];
      const files = await this.candidates(root, start, input.glob, ignored);
      // Only a walk of the whole workspace knows all its ignored directories.
      if (start.isDirectory && start.relative === '') this.rememberIgnored(root, ignored);
      // No files: ripgrep still checks the pattern, on empty input (stdin is /dev/null).
      for (const batch of files.length === 0 ? [['-']] : batches(files.map((file) => `./${file}`))) if (await run(batch)) break;
    }
    await this.verify(root, collected);
    return collected;
  }

  private rememberIgnored(root: string, ignored: string[]): void {
    this.ignoredByRoot.delete(root);
    // Too many to pass as arguments: such a workspace keeps the explicit-paths way.
    if (ignored.length > MAX_PRUNED_DIRECTORIES) return;
    this.ignoredByRoot.set(root, { directories: ignored, at: Date.now() });
    if (this.ignoredByRoot.size > MAX_REMEMBERED_ROOTS) this.ignoredByRoot.delete(this.ignoredByRoot.keys().next().value!);
  }

  /** One ripgrep run, its matches added to `collected` (paths without their `./`); true once the match cap is reached. */
  private async ripgrepRun(root: string, args: string[], collected: Collected, deadline: number, signal?: AbortSignal): Promise<boolean> {
    const child = spawn('rg', args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], signal });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, Math.max(0, deadline - Date.now()));
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk.slice(0, 4000)));
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on('close', resolve);
      child.on('error', reject);
    });

    let matches = [...collected.values()].reduce((sum, file) => sum + file.matches.length, 0);
    const binary = new Set<string>();
    try {
      for await (const line of createInterface({ input: child.stdout })) {
        const event = JSON.parse(line) as { type: string; data: { path?: { text?: string }; lines?: { text?: string }; line_number?: number; binary_offset?: number | null } };
        const path = event.data.path?.text;
        // An explicit path is searched even when it is binary; the end event says so, and the file is dropped as a walk would have skipped it.
        if (event.type === 'end' && path !== undefined && event.data.binary_offset != null) binary.add(path.slice(2));
        if (event.type !== 'match' && event.type !== 'context') continue;
        const text = event.data.lines?.text;
        const number = event.data.line_number;
        if (path === undefined || text === undefined || number === undefined) continue; // non-UTF-8 names or content
        const file = fileEntry(collected, path.slice(2));
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
      if (timedOut) throw new CodeBuddyError('E_TOO_LARGE', `the search took longer than ${this.timeoutMs / 1000} s and was stopped; narrow it with path or glob`);
      if (code === 2 && matches === 0 && /regex parse error|unrecognized/i.test(stderr)) {
        throw new CodeBuddyError('E_INVALID_ARGUMENT', `invalid pattern: ${stderr.trim().split('\n').slice(-3).join(' ')}`, { field: 'pattern' });
      }
    } finally {
      clearTimeout(timer);
    }
    for (const path of binary) collected.delete(path);
    return matches >= MAX_MATCHES;
  }

  /**
   * Keeps only what the files really say: each file ripgrep reported is read again through
   * handles, and dropped if it is no longer a regular text file within the size limit or
   * if any reported line differs (ripgrep read something else by that name: a race).
   */
  private async verify(root: string, collected: Collected): Promise<void> {
    const parents = new ParentDirectories(root);
    try {
      for (const [path, file] of collected) {
        const lines = await this.readText(parents, path).then((text) => (text === undefined ? undefined : splitLines(text)));
        const same = lines !== undefined && [...file.text].every(([number, text]) => lines[number - 1] === text);
        if (!same) collected.delete(path);
      }
    } finally {
      parents.close();
    }
  }

  /** A candidate's text through directory handles, or undefined when it cannot be searched (gone, not a regular file, too large, binary). */
  private async readText(parents: ParentDirectories, path: string): Promise<string | undefined> {
    let parent;
    try {
      parent = parents.parentOf(path);
    } catch {
      return undefined;
    }
    const buffer = await readRegularFileAt(parent.dir, parent.name, this.options.maxFileBytes);
    return buffer === undefined ? undefined : decodeText(buffer);
  }

  private async builtin(root: string, files: string[], input: SearchInput, context: number): Promise<Collected> {
    // Linear time: an agent's pattern must not backtrack for seconds on a crafted line.
    const matcher = compileSafeRegex(input.pattern, { field: 'pattern', literal: !input.regex, ignoreCase: !!input.ignore_case });
    const collected: Collected = new Map();
    let matches = 0;
    const parents = new ParentDirectories(root);
    try {
      for (const path of files) {
        const text = await this.readText(parents, path);
        if (text === undefined) continue;
        const lines = splitLines(text);
        lines.forEach((line, index) => {
          if (matches >= MAX_MATCHES || !matcher.test(line)) return;
          matches++;
          const file = fileEntry(collected, path);
          file.matches.push(index + 1);
          for (let n = Math.max(0, index - context); n <= Math.min(lines.length - 1, index + context); n++) file.text.set(n + 1, lines[n]!);
        });
        if (matches >= MAX_MATCHES) break;
      }
    } finally {
      parents.close();
    }
    return collected;
  }
}

/** File names split so that no one ripgrep command line grows past MAX_ARGUMENT_BYTES. */
function batches(files: string[]): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const file of files) {
    const size = Buffer.byteLength(file) + 1;
    if (current.length > 0 && bytes + size > MAX_ARGUMENT_BYTES) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(file);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** The glob as both engines apply it: against paths relative to the start directory (or a single file's directory); no glob, everything. */
function globFilter(start: SearchStart, glob: string | undefined): (path: string) => boolean {
  if (!glob) return () => true;
  const matches = pathGlob(glob);
  const prefix = !start.isDirectory ? start.relative.lastIndexOf('/') + 1 : start.relative === '' ? 0 : start.relative.length + 1;
  return (path) => matches(path.slice(prefix));
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
