import { existsSync } from 'node:fs';
import { z } from 'zod';
import { CodeBuddyError } from '../core/errors.js';
import { compileSafeRegex } from '../core/safe-regex.js';
import { resolveExisting } from '../files/path-resolver.js';
import type { TerminalRow } from '../store/terminal-repository.js';
import type { TerminalService } from '../terminals/terminal-service.js';
import type { Runtime } from '../workspaces/runtimes/runtime.js';
import type { Workspace } from '../workspaces/workspace.js';
import { workspaceOperation, type Operation } from './operation.js';

/** Named keys an agent can send without knowing their escape sequences. */
const keySequences = {
  enter: '\r',
  tab: '\t',
  escape: '\u001b',
  backspace: '\u007f',
  up: '\u001b[A',
  down: '\u001b[B',
  right: '\u001b[C',
  left: '\u001b[D',
  'ctrl-c': '\u0003',
  'ctrl-d': '\u0004',
  'ctrl-z': '\u001a',
  'ctrl-l': '\u000c',
} as const;
type Key = keyof typeof keySequences;

const id = z.string().min(1).max(100).describe('Terminal id');
const terminalView = z.object({ id: z.string(), workspace_id: z.string(), shell: z.string(), status: z.string(), exit_code: z.number().nullable(), close_reason: z.string().nullable() });

const view = (row: TerminalRow) => ({ id: row.id, workspace_id: row.workspace_id, shell: row.shell, status: row.status, exit_code: row.exit_code, close_reason: row.close_reason });
const line = (t: z.infer<typeof terminalView>) => `${t.id} ${t.shell} ${t.status}${t.close_reason ? ` (${t.close_reason}${t.exit_code === null ? '' : `, exit ${t.exit_code}`})` : ''}`;

function defaultShell(): string {
  return existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh';
}

export function terminalOperations(terminals: TerminalService, runtimeFor: (workspace: Workspace) => Runtime): Operation[] {
  const owning = (input: { id: string }, principal: Parameters<TerminalService['get']>[0]) => terminals.get(principal, input.id).workspace_id;
  const byId = { workspaceOf: owning };

  return [
    workspaceOperation({
      name: 'terminal_open',
      title: 'Open terminal',
      description: 'Open a long-lived terminal (PTY) in the workspace; returns its id.',
      effect: 'exec',
      idempotent: false,
      destructive: false,
      openWorld: true,
      input: z.object({
        shell: z.string().min(1).max(500).optional().describe('Program, default bash'),
        cwd: z.string().min(1).max(4096).optional().describe('Directory; default root'),
        cols: z.number().int().min(20).max(500).optional(),
        rows: z.number().int().min(5).max(200).optional(),
      }),
      output: terminalView,
      async policySubject(input, workspace) {
        return { paths: [(await resolveExisting(workspace.root, input.cwd ?? '', 'directory')).relative], command: input.shell ?? defaultShell() };
      },
      async preview(input, workspace) {
        const cwd = await resolveExisting(workspace.root, input.cwd ?? '', 'directory');
        return { text: `open a terminal running ${input.shell ?? defaultShell()} in ${cwd.relative || '.'}`, bases: {} };
      },
      async run(input, workspace, context) {
        const cwd = await resolveExisting(workspace.root, input.cwd ?? '', 'directory');
        const row = terminals.open(context.principal, workspace, runtimeFor(workspace), { shell: input.shell ?? defaultShell(), cwd: cwd.absolute, cols: input.cols ?? 120, rows: input.rows ?? 40 });
        return view(row);
      },
      render: (out) => `opened ${line(out)}; terminal_read {"id":"${out.id}"} shows its output`,
    }),
    workspaceOperation({
      name: 'terminal_write',
      title: 'Type into terminal',
      description: 'Type into a terminal: text, then named keys (enter, ctrl-c, up, ...).',
      effect: 'exec',
      idempotent: false,
      destructive: true,
      openWorld: true,
      ...byId,
      input: z.object({
        id,
        input: z.string().max(100_000).optional(),
        keys: z.array(z.enum(Object.keys(keySequences) as [Key, ...Key[]])).max(100).optional(),
      }),
      output: z.object({ id: z.string(), bytes: z.number() }),
      // What is typed is a shell line as far as command rules can tell; keys alone are not.
      policySubject: async (input) => ({ paths: [], command: input.input ?? '', script: input.input ?? '' }),
      preview: async (input) => ({ text: `type into ${input.id}: ${JSON.stringify(input.input ?? '')}${input.keys ? ` then ${input.keys.join(', ')}` : ''}`, bases: {} }),
      async run(input, _workspace, context) {
        const data = (input.input ?? '') + (input.keys ?? []).map((key) => keySequences[key]).join('');
        if (data === '') throw new CodeBuddyError('E_INVALID_ARGUMENT', 'give input, keys, or both', { field: 'input' });
        terminals.write(context.principal, input.id, data);
        return { id: input.id, bytes: Buffer.byteLength(data) };
      },
      render: (out) => `sent ${out.bytes} bytes to ${out.id}`,
    }),
    workspaceOperation({
      name: 'terminal_read',
      title: 'Read terminal',
      description: 'Read a terminal: new output since a cursor (raw) or the rendered screen; wait_for a regex.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      ...byId,
      input: z.object({
        id,
        mode: z.enum(['raw', 'screen']).optional().describe('Default raw'),
        since: z.number().int().min(0).optional().describe('next from the previous read'),
        wait_for: z.string().min(1).max(500).optional().describe('Regex: return once output since `since` matches'),
        timeout_s: z.number().min(0).max(25).optional().describe('With wait_for; default 10'),
      }),
      output: z.object({
        id: z.string(),
        mode: z.enum(['raw', 'screen']),
        text: z.string(),
        next: z.number().optional(),
        matched: z.boolean().optional(),
        cut: z.boolean(),
        exited: z.boolean(),
        exit_code: z.number().nullable().optional(),
        ended: z.string().optional().describe('Why it ended, when its program did not simply exit'),
        cursor: z.object({ row: z.number(), col: z.number() }).optional(),
      }),
      async run(input, _workspace, context) {
        if (input.mode === 'screen') {
          const screen = terminals.readScreen(context.principal, input.id);
          return { id: input.id, mode: 'screen' as const, text: screen.lines.join('\n'), cut: false, exited: screen.exited, ...(screen.ended ? { ended: screen.ended } : {}), cursor: screen.cursor };
        }
        const read = await terminals.readRaw(context.principal, input.id, {
          ...(input.since !== undefined ? { since: input.since } : {}),
          ...(input.wait_for !== undefined ? { waitFor: compileSafeRegex(input.wait_for, { field: 'wait_for', multiline: true }) } : {}),
          timeoutMs: (input.timeout_s ?? (input.wait_for ? 10 : 0)) * 1000,
          signal: context.signal,
        });
        const notes = read.dropped > 0 ? `…[${read.dropped} older characters dropped from scrollback]…\n` : '';
        return {
          id: input.id,
          mode: 'raw' as const,
          text: notes + read.text,
          next: read.next,
          cut: read.more,
          exited: read.exited,
          exit_code: read.exit_code,
          ...(read.ended ? { ended: read.ended } : {}),
          ...(input.wait_for !== undefined ? { matched: read.matched } : {}),
        };
      },
      render(out) {
        const status = [
          out.mode === 'raw' ? `next ${out.next}` : `cursor ${out.cursor!.row},${out.cursor!.col}`,
          out.matched === false ? 'wait_for did not match before the timeout' : '',
          out.ended ? `ended: ${out.ended}` : out.exited ? `program exited${out.exit_code === null || out.exit_code === undefined ? '' : ` with ${out.exit_code}`}` : '',
          out.cut ? `more output waits: read again with since ${out.next}` : '',
        ].filter(Boolean);
        return `${out.text}${out.text.endsWith('\n') || out.text === '' ? '' : '\n'}[${status.join('; ')}]`;
      },
    }),
    workspaceOperation({
      name: 'terminal_resize',
      title: 'Resize terminal',
      description: 'Resize a terminal.',
      effect: 'exec',
      idempotent: true,
      destructive: false,
      ...byId,
      input: z.object({ id, cols: z.number().int().min(20).max(500), rows: z.number().int().min(5).max(200) }),
      output: z.object({ id: z.string(), cols: z.number(), rows: z.number() }),
      preview: async (input) => ({ text: `resize ${input.id} to ${input.cols}x${input.rows}`, bases: {} }),
      async run(input, _workspace, context) {
        terminals.resize(context.principal, input.id, input.cols, input.rows);
        return { id: input.id, cols: input.cols, rows: input.rows };
      },
      render: (out) => `${out.id} is ${out.cols}x${out.rows}`,
    }),
    workspaceOperation({
      name: 'terminal_list',
      title: 'List terminals',
      description: "The workspace's terminals, open and recently closed.",
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({}),
      output: z.object({ terminals: z.array(terminalView) }),
      run: async (_input, workspace, context) => ({ terminals: terminals.list(context.principal, workspace.id).map(view) }),
      render: (out) => (out.terminals.length === 0 ? 'no terminals' : out.terminals.map(line).join('\n')),
    }),
    workspaceOperation({
      name: 'terminal_close',
      title: 'Close terminal',
      description: 'Close a terminal, ending its program and everything it started.',
      effect: 'exec',
      idempotent: true,
      destructive: true,
      ...byId,
      input: z.object({ id }),
      output: terminalView,
      preview: async (input) => ({ text: `close ${input.id}`, bases: {} }),
      run: async (input, _workspace, context) => view(terminals.close(context.principal, input.id)),
      render: (out) => `closed ${line(out)}`,
    }),
  ];
}
