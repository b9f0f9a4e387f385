import { z } from 'zod';
import { moreMarker } from '../core/more-marker.js';
import type { CodeIntelligence } from '../code/code-intelligence.js';
import { workspaceOperation, type Operation } from './operation.js';

// Where a request is aimed: line and column (1-based), or a symbol's name path.
const target = {
  path: z.string().min(1).max(4096).optional(),
  line: z.number().int().min(1).max(10_000_000).optional(),
  column: z.number().int().min(1).max(10_000_000).optional().describe('1-based, UTF-16 units'),
  symbol: z.string().min(1).max(500).optional().describe('Name path like Cart.addItem, instead of line/column'),
};
const cursor = z.string().max(8192).optional();

const location = z.object({ path: z.string(), external: z.boolean(), line: z.number(), column: z.number(), end_line: z.number(), end_column: z.number(), text: z.string() });
const from = z.object({ path: z.string(), line: z.number(), column: z.number() });
const notes = z.array(z.string());

type Location = z.infer<typeof location>;

const shown = (item: { path: string; external: boolean }) => (item.external ? `(external) ${item.path}` : item.path);
const locationLine = (item: Location) => `${shown(item)}:${item.line}:${item.column}${item.text ? `  ${item.text}` : ''}`;
const withNotes = (text: string, list: readonly string[]) => [text, ...list.map((note) => `[${note}]`)].filter(Boolean).join('\n');
const at = (place: z.infer<typeof from>) => `${place.path}:${place.line}:${place.column}`;
const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

function megabytes(bytes: number | null): string {
  return bytes === null ? 'memory unknown' : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function codeOperations(code: CodeIntelligence): Operation[] {
  return [
    workspaceOperation({
      name: 'code_definition',
      title: 'Go to definition',
      description: 'Where a symbol is defined (language server): path:line:col and that line.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object(target),
      output: z.object({ from, locations: z.array(location), notes }),
      run: (input, workspace) => code.definition(workspace, input),
      render: (out) => withNotes(out.locations.length === 0 ? `no definition found at ${at(out.from)}` : out.locations.map(locationLine).join('\n'), out.notes),
    }),
    workspaceOperation({
      name: 'code_references',
      title: 'Find references',
      description: 'Every reference to a symbol (language server), paged.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({ ...target, include_declaration: z.boolean().optional().describe('Default true'), cursor }),
      output: z.object({ from, references: z.array(location), total: z.number(), next_cursor: z.string().optional(), notes }),
      run: (input, workspace) => code.references(workspace, input),
      render: (out) =>
        withNotes(
          out.references.length === 0 ? `no references found at ${at(out.from)}` : out.references.map(locationLine).join('\n') + moreMarker(out.next_cursor, `${out.references.length} of ${out.total} references shown`),
          out.notes,
        ),
    }),
    workspaceOperation({
      name: 'code_hover',
      title: 'Hover information',
      description: 'Type and documentation of a symbol (language server hover), as plain text.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object(target),
      output: z.object({ from, text: z.string(), range: z.object({ line: z.number(), column: z.number(), end_line: z.number(), end_column: z.number() }).optional(), notes }),
      run: (input, workspace) => code.hover(workspace, input),
      render: (out) => withNotes(out.text || `no hover information at ${at(out.from)}`, out.notes),
    }),
    workspaceOperation({
      name: 'code_diagnostics',
      title: 'Diagnostics',
      description: "Errors and warnings of a file's current version, or of the workspace's source files.",
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({ path: z.string().min(1).max(4096).optional().describe('Default: the workspace'), cursor }),
      output: z.object({
        files: z.array(z.object({ path: z.string(), version: z.number(), fresh: z.boolean() })),
        checked: z.number(),
        not_checked: z.number(),
        diagnostics: z.array(z.object({ path: z.string(), line: z.number(), column: z.number(), end_line: z.number(), end_column: z.number(), severity: z.enum(['error', 'warning', 'info', 'hint']), message: z.string(), code: z.string().optional(), source: z.string().optional() })),
        total: z.number(),
        next_cursor: z.string().optional(),
        notes,
      }),
      run: (input, workspace) => code.diagnostics(workspace, input),
      render: (out) => {
        const single = out.files.length === 1 && out.checked === 1 ? out.files[0]! : undefined;
        const head = single
          ? `${single.path} version ${single.version}${single.fresh ? '' : ' (stale)'}: ${out.total === 0 ? 'no problems' : plural(out.total, 'problem')}`
          : `${plural(out.checked, 'file')} checked: ${out.total === 0 ? 'no problems' : plural(out.total, 'problem')}`;
        const lines = out.diagnostics.map((item) => `${item.path}:${item.line}:${item.column}  ${item.severity}${item.code ? ` ${item.source === 'typescript' ? 'TS' : ''}${item.code}` : ''}: ${item.message.split('\n')[0]}`);
        return withNotes([head, ...lines].join('\n') + moreMarker(out.next_cursor, `${out.diagnostics.length} of ${out.total} shown`), out.notes);
      },
    }),
    workspaceOperation({
      name: 'code_symbols',
      title: 'Symbols',
      description: "A file's outline ({path}), or workspace symbols matching {query}; paged.",
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({ path: z.string().min(1).max(4096).optional(), query: z.string().max(500).optional(), cursor }),
      output: z.object({
        symbols: z.array(z.object({ name_path: z.string(), kind: z.string(), path: z.string(), external: z.boolean(), line: z.number(), column: z.number(), end_line: z.number(), end_column: z.number() })),
        total: z.number(),
        next_cursor: z.string().optional(),
        notes,
      }),
      run: (input, workspace) => code.symbols(workspace, input),
      render: (out) =>
        withNotes(
          out.symbols.length === 0 ? 'no symbols' : out.symbols.map((item) => `${shown(item)}:${item.line}:${item.column}  ${item.kind} ${item.name_path}`).join('\n') + moreMarker(out.next_cursor, `${out.symbols.length} of ${out.total} symbols shown`),
          out.notes,
        ),
    }),
    workspaceOperation({
      name: 'code_status',
      title: 'Language server status',
      description: "The workspace's language servers: state, restarts, memory.",
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({}),
      output: z.object({
        servers: z.array(
          z.object({
            id: z.string(),
            state: z.enum(['stopped', 'starting', 'indexing', 'ready', 'crashed']),
            restarts: z.number(),
            memory_bytes: z.number().nullable(),
            open_documents: z.number(),
            last_crash: z.string().optional(),
            last_stderr: z.array(z.string()),
          }),
        ),
      }),
      run: (_input, workspace) => code.status(workspace),
      render: (out) =>
        out.servers.length === 0
          ? 'no language server concerns this workspace'
          : out.servers
              .map((server) =>
                [
                  `${server.id}  ${server.state}  restarts ${server.restarts}  ${server.state === 'stopped' ? 'not running' : megabytes(server.memory_bytes)}  ${plural(server.open_documents, 'open document')}${server.last_crash ? `  last crash: ${server.last_crash}` : ''}`,
                  ...server.last_stderr.map((line) => `  stderr: ${line}`),
                ].join('\n'),
              )
              .join('\n'),
    }),
  ];
}
