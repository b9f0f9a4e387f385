import { z } from 'zod';
import { moreMarker } from '../core/more-marker.js';
import type { SyntaxService } from '../code/syntax/syntax-service.js';
import { workspaceOperation, type Operation } from './operation.js';

const cursor = z.string().max(8192).optional();
const range = { start_line: z.number(), start_column: z.number(), end_line: z.number(), end_column: z.number() };

/** Tree-sitter tools: they need no language server, so they answer for every grammar in grammars/. */
export function syntaxOperations(syntax: SyntaxService): Operation[] {
  return [
    workspaceOperation({
      name: 'code_outline',
      title: 'File outline',
      description: 'Outline of a source file (classes, functions, methods… with line ranges) by tree-sitter, paged.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({ path: z.string().min(1).max(4096), cursor }),
      output: z.object({
        path: z.string(),
        language: z.string(),
        symbols: z.array(z.object({ kind: z.string(), name: z.string(), name_path: z.string(), depth: z.number(), ...range })),
        total: z.number(),
        next_cursor: z.string().optional(),
      }),
      run: (input, workspace) => syntax.outline(workspace, input),
      render: (out) =>
        (out.total === 0 ? `${out.path}: no symbols` : out.symbols.map((s) => `${'  '.repeat(s.depth)}${s.kind} ${s.name}  L${s.start_line}-L${s.end_line}`).join('\n')) +
        moreMarker(out.next_cursor, `${out.symbols.length} of ${out.total} symbols shown`),
    }),
    workspaceOperation({
      name: 'code_query',
      title: 'Structural code query',
      description: 'Run a tree-sitter query over the workspace\'s files (.gitignore honoured): each capture as path:line:col, paged.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({
        query: z.string().min(1).max(16_384).describe('Tree-sitter query, e.g. (class_declaration name: (_) @name)'),
        language: z.string().min(1).max(64).optional().describe('Grammar; default from the glob\'s extension'),
        glob: z.string().min(1).max(1000).optional().describe('Only files matching this glob, e.g. src/**/*.ts'),
        cursor,
      }),
      output: z.object({
        language: z.string(),
        captures: z.array(z.object({ path: z.string(), capture: z.string(), line: z.number(), column: z.number(), end_line: z.number(), end_column: z.number(), text: z.string() })),
        files_searched: z.number(),
        incomplete: z.array(z.object({ path: z.string(), reason: z.string() })),
        truncated: z.string().optional(),
        next_cursor: z.string().optional(),
      }),
      run: (input, workspace, context) => syntax.query(workspace, input, context.signal),
      render(out) {
        const lines = out.captures.map((c) => `${c.path}:${c.line}:${c.column}  ${c.capture}  ${c.text.trim()}`);
        if (lines.length === 0) lines.push(`no captures in ${out.files_searched} ${out.language} files`);
        for (const file of out.incomplete) lines.push(`[${file.path}: ${file.reason}]`);
        const shown = `${out.captures.length} captures shown${out.truncated ? `; stopped early: ${out.truncated}` : ''}`;
        return lines.join('\n') + moreMarker(out.next_cursor, shown);
      },
    }),
  ];
}
