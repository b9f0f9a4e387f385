import { z } from 'zod';
import { moreMarker } from '../core/more-marker.js';
import type { ChangePreviewer } from '../files/change-preview.js';
import type { Workspace } from '../workspaces/workspace.js';
import type { FileFinder } from '../files/file-finder.js';
import type { FileService } from '../files/file-service.js';
import { subtreePaths } from '../files/subtree-paths.js';
import type { SearchMatch, TextSearch } from '../files/text-search.js';
import { workspaceOperation, type Operation } from './operation.js';

// Paths are relative to the workspace root: the server's instructions and every refusal say so.
const path = z.string().min(1).max(4096);
const cursor = z.string().max(8192).optional();
/** Content as base64: whole files of any kind, for clients such as an editor's file system. */
const encoding = z.literal('base64').optional();
const MAX_SHOWN_LINE = 2000;

function numbered(content: string, firstLine: number): string {
  if (content === '') return '';
  return content
    .split('\n')
    .map((text, offset) => `${firstLine + offset}\t${text.length > MAX_SHOWN_LINE ? `${text.slice(0, MAX_SHOWN_LINE)}…[line cut at ${MAX_SHOWN_LINE} chars]` : text}`)
    .join('\n');
}

/** rg-style: a file name, then `line:text` for matches and `line-text` for context, `--` between distant groups. */
function renderMatches(matches: SearchMatch[]): string {
  const out: string[] = [];
  let currentPath: string | undefined;
  let lastLine = 0;
  for (const match of matches) {
    if (match.path !== currentPath) {
      currentPath = match.path;
      lastLine = 0;
      out.push(match.path);
    }
    const firstShown = match.line - (match.before?.length ?? 0);
    if (lastLine > 0 && firstShown > lastLine + 1) out.push('--');
    match.before?.forEach((text, index) => {
      const n = match.line - match.before!.length + index;
      if (n > lastLine) out.push(`${n}-${text}`);
    });
    if (match.line > lastLine) out.push(`${match.line}:${match.text}`);
    match.after?.forEach((text, index) => out.push(`${match.line + index + 1}-${text}`));
    lastLine = match.line + (match.after?.length ?? 0);
  }
  return out.join('\n');
}

export function fileOperations(files: FileService, finder: FileFinder, search: TextSearch, previews: ChangePreviewer): Operation[] {
  const resolved = async (workspace: Workspace, ...paths: string[]) => ({ paths: await Promise.all(paths.map(async (path) => (await files.resolve(workspace, path)).relative)) });
  /**
   * Deleting or moving a directory touches everything in it: when the policy looks at paths,
   * it sees every path below it (and, for a move, where each would land), so a rule on a file
   * binds a call on its directory. A tree too large to list leaves the subject incomplete,
   * judged strictly.
   */
  const withSubtree = async (workspace: Workspace, needs: { paths: boolean }, path: string, destination?: string) => {
    const source = await files.resolve(workspace, path);
    const target = destination === undefined ? undefined : await files.resolve(workspace, destination);
    const below = needs.paths ? await subtreePaths(workspace.root, source.relative) : { paths: [], complete: true };
    const landed = target === undefined ? [] : below.paths.map((inside) => `${target.relative}${target.relative === '' ? '' : '/'}${inside.slice(source.relative.length + 1)}`);
    const paths = [source.relative, ...(target ? [target.relative] : []), ...below.paths, ...landed];
    return below.complete ? { paths } : { paths, pathsComplete: false };
  };
  return [
    workspaceOperation({
      name: 'file_read',
      title: 'Read file',
      description: 'Read a text file as numbered lines, paged; base64: any file, whole.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({
        path,
        offset_line: z.number().int().min(1).optional().describe('First line, 1-based'),
        limit_lines: z.number().int().min(1).optional().describe('Most lines to return'),
        cursor,
        encoding,
      }),
      output: z.object({
        path: z.string(),
        size: z.number(),
        sha256: z.string(),
        binary: z.boolean(),
        total_lines: z.number().optional(),
        start_line: z.number().optional(),
        end_line: z.number().optional(),
        content: z.string().optional(),
        next_cursor: z.string().optional(),
      }),
      run: (input, workspace) => files.read(workspace, input),
      render(out) {
        // Only a base64 read answers content without line numbers.
        if (out.content !== undefined && out.total_lines === undefined) return `${out.path}: ${out.size} bytes, sha256 ${out.sha256}, as base64:\n${out.content}`;
        if (out.binary) return `${out.path}: binary file, ${out.size} bytes, sha256 ${out.sha256}; content not shown`;
        if (out.total_lines === 0) return `${out.path}: empty file`;
        if (out.start_line! > out.total_lines!) return `${out.path}: has ${out.total_lines} lines; nothing from line ${out.start_line}`;
        return numbered(out.content!, out.start_line!) + moreMarker(out.next_cursor, `lines ${out.start_line}-${out.end_line} of ${out.total_lines}`);
      },
    }),
    workspaceOperation({
      name: 'file_write',
      title: 'Write file',
      description: 'Create or overwrite a file atomically; expected_sha256 refuses a file that changed.',
      effect: 'write',
      idempotent: true,
      destructive: true,
      input: z.object({
        path,
        content: z.string(),
        encoding,
        expected_sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'a sha256 hex digest').optional().describe('sha256 the file must still have'),
      }),
      output: z.object({ path: z.string(), sha256: z.string(), size: z.number(), created: z.boolean() }),
      run: (input, workspace, context) => files.write(workspace, input, context),
      policySubject: (input, workspace) => resolved(workspace, input.path),
      preview: (input, workspace) => previews.write(workspace, input),
      render: (out) => `${out.created ? 'created' : 'wrote'} ${out.path} (${out.size} bytes, sha256 ${out.sha256})`,
    }),
    workspaceOperation({
      name: 'file_edit',
      title: 'Edit file',
      description: 'Replace exact text in a file; all edits apply or none.',
      effect: 'write',
      idempotent: false,
      destructive: true,
      input: z.object({
        path,
        edits: z
          .array(
            z.strictObject({
              old: z.string().min(1).describe('Exact text to replace'),
              new: z.string(),
              count: z.number().int().min(1).optional().describe('Expected occurrences, default 1'),
            }),
          )
          .min(1)
          .max(100),
      }),
      output: z.object({ path: z.string(), sha256: z.string(), replacements: z.number(), first_changed_line: z.number() }),
      run: (input, workspace, context) => files.edit(workspace, input, context),
      policySubject: (input, workspace) => resolved(workspace, input.path),
      preview: (input, workspace) => previews.edit(workspace, input),
      render: (out) => `edited ${out.path}: ${out.replacements} replacement${out.replacements === 1 ? '' : 's'} from line ${out.first_changed_line} (sha256 ${out.sha256})`,
    }),
    workspaceOperation({
      name: 'file_list',
      title: 'List directory',
      description: 'List a directory tree (.gitignore honoured), paged.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({
        path: path.optional().describe('Directory; default root'),
        depth: z.number().int().min(1).max(20).optional().describe('Levels, default 2'),
        cursor,
      }),
      output: z.object({
        entries: z.array(z.object({ path: z.string(), type: z.string(), size: z.number().optional() })),
        next_cursor: z.string().optional(),
      }),
      async run(input, workspace) {
        const page = await finder.list(workspace, input);
        return page.next_cursor === undefined ? { entries: page.items } : { entries: page.items, next_cursor: page.next_cursor };
      },
      render: (out) =>
        (out.entries.length === 0 ? '(empty)' : out.entries.map((e) => (e.type === 'directory' ? `${e.path}/` : e.size === undefined ? `${e.path} (${e.type})` : `${e.path} ${e.size}`)).join('\n')) +
        moreMarker(out.next_cursor, `${out.entries.length} entries shown`),
    }),
    workspaceOperation({
      name: 'file_glob',
      title: 'Find files by glob',
      description: 'Find files by glob (e.g. **/*.ts; no / matches names at any depth), paged.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({ pattern: z.string().min(1).max(1000), path: path.optional().describe('Directory; default root'), cursor }),
      output: z.object({ paths: z.array(z.string()), next_cursor: z.string().optional() }),
      async run(input, workspace) {
        const page = await finder.glob(workspace, input);
        return page.next_cursor === undefined ? { paths: page.items } : { paths: page.items, next_cursor: page.next_cursor };
      },
      render: (out) => (out.paths.length === 0 ? 'no files match' : out.paths.join('\n')) + moreMarker(out.next_cursor, `${out.paths.length} paths shown`),
    }),
    workspaceOperation({
      name: 'file_search',
      title: 'Search file contents',
      description: 'Search file contents (literal, or regex), .gitignore honoured, paged.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({
        pattern: z.string().min(1).max(1000),
        regex: z.boolean().optional().describe('Treat pattern as a regex'),
        ignore_case: z.boolean().optional(),
        glob: z.string().min(1).max(1000).optional().describe('Only files matching this glob'),
        path: path.optional().describe('Directory; default root'),
        context: z.number().int().min(0).max(10).optional().describe('Lines around each match'),
        cursor,
      }),
      output: z.object({
        matches: z.array(
          z.object({ path: z.string(), line: z.number(), text: z.string(), before: z.array(z.string()).optional(), after: z.array(z.string()).optional() }),
        ),
        total: z.number(),
        capped: z.boolean(),
        next_cursor: z.string().optional(),
      }),
      run: (input, workspace, context) => search.search(workspace, input, context.signal),
      render(out) {
        if (out.total === 0) return 'no matches';
        const cap = out.capped ? ` (search stopped at ${out.total}; narrow the pattern)` : '';
        return renderMatches(out.matches) + moreMarker(out.next_cursor, `${out.matches.length} of ${out.total} matches shown${cap}`);
      },
    }),
    workspaceOperation({
      name: 'file_move',
      title: 'Move file',
      description: 'Move or rename a file or directory.',
      effect: 'write',
      idempotent: false,
      destructive: true,
      input: z.object({ from: path, to: path, overwrite: z.boolean().optional().describe('Replace an existing file at to') }),
      output: z.object({ from: z.string(), to: z.string() }),
      run: (input, workspace, context) => files.move(workspace, input, context),
      policySubject: (input, workspace, needs) => withSubtree(workspace, needs, input.from, input.to),
      preview: (input, workspace) => previews.move(workspace, input),
      render: (out) => `moved ${out.from} -> ${out.to}`,
    }),
    workspaceOperation({
      name: 'file_delete',
      title: 'Delete file',
      description: 'Delete a file or symlink, or a directory with recursive: true.',
      effect: 'write',
      idempotent: false,
      destructive: true,
      input: z.object({ path, recursive: z.boolean().optional() }),
      output: z.object({ path: z.string(), type: z.enum(['file', 'directory', 'symlink']) }),
      run: (input, workspace, context) => files.delete(workspace, input, context),
      policySubject: (input, workspace, needs) => (input.recursive ? withSubtree(workspace, needs, input.path) : resolved(workspace, input.path)),
      preview: (input, workspace) => previews.delete(workspace, input),
      render: (out) => `deleted ${out.type} ${out.path}`,
    }),
    workspaceOperation({
      name: 'file_stat',
      title: 'File info',
      description: 'Type, size, modification time, mode and sha256 of a path.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({ path }),
      output: z.object({ path: z.string(), type: z.string(), size: z.number(), modified: z.string(), mode: z.string(), sha256: z.string().optional() }),
      run: (input, workspace) => files.stat(workspace, input),
      render: (out) => `${out.path || '.'}: ${out.type}, ${out.size} bytes, modified ${out.modified}, mode ${out.mode}${out.sha256 ? `, sha256 ${out.sha256}` : ''}`,
    }),
  ];
}
