import type { CodeAction, Diagnostic, Range } from 'vscode-languageserver-protocol';
import type { ProposalService } from '../../ledger/proposal-service.js';

/** One proposed (held) action as it touches one file: the lines it would change. */
export interface PendingChange {
  actionId: string;
  operation: string;
  requestedBy: string;
  path: string;
  ranges: Range[];
}

/** Most held actions of a workspace shown at once; an editor is not the place to page through more. */
const MAX_PENDING = 200;

/**
 * Agent actions held for a human, as an editor shows them: diagnostics (source `codebuddy`,
 * severity information) on the lines each would change, read from the unified diff of its
 * preview, and the code actions that decide them (`codebuddy.diff`, `.approve`, `.reject`).
 */
export class PendingActions {
  /** A proposal's preview never changes: its lines are read once (the list is read again every few seconds). */
  private readonly parsed = new Map<string, Map<string, Range[]>>();

  constructor(private readonly proposals: ProposalService) {}

  /** The proposed actions of a workspace, one entry per file each touches. */
  of(tenantId: string, workspaceId: string): PendingChange[] {
    const rows = this.proposals.list(tenantId, 'proposed', '\uffff', MAX_PENDING).filter((row) => row.workspace_id === workspaceId);
    const current = new Set(rows.map((row) => `${workspaceId}/${row.action_id}`));
    for (const key of this.parsed.keys()) if (key.startsWith(`${workspaceId}/`) && !current.has(key)) this.parsed.delete(key);
    return rows.flatMap((row) => {
      const key = `${workspaceId}/${row.action_id}`;
      const hunks = this.parsed.get(key) ?? changedRanges(row.preview);
      this.parsed.set(key, hunks);
      const paths = Object.keys(JSON.parse(row.base_versions_json) as Record<string, unknown>);
      return paths.map((path) => ({
        actionId: row.action_id,
        operation: row.operation,
        requestedBy: row.requested_by,
        path,
        ranges: hunks.get(path) ?? [{ start: { line: 0, character: 0 }, end: { line: 1, character: 0 } }],
      }));
    });
  }
}

export function pendingDiagnostics(changes: readonly PendingChange[]): Diagnostic[] {
  return changes.flatMap((change) =>
    change.ranges.map((range) => ({
      range,
      severity: 3,
      source: 'codebuddy',
      code: change.actionId,
      message: `pending ${change.operation} by ${change.requestedBy} (${change.actionId}): show the diff, approve or reject`,
      data: { actionId: change.actionId },
    })),
  );
}

/** The code actions for pending changes whose lines meet `range`. */
export function pendingCodeActions(changes: readonly PendingChange[], range: Range): CodeAction[] {
  const actions: CodeAction[] = [];
  for (const change of changes) {
    const touching = change.ranges.filter((candidate) => candidate.start.line <= range.end.line && range.start.line <= Math.max(candidate.start.line, candidate.end.line - 1));
    if (touching.length === 0) continue;
    const diagnostics = pendingDiagnostics([{ ...change, ranges: touching }]);
    for (const [verb, command] of [['Show diff of', 'codebuddy.diff'], ['Approve', 'codebuddy.approve'], ['Reject', 'codebuddy.reject']] as const) {
      const title = `${verb} ${change.operation} ${change.actionId}`;
      actions.push({ title, kind: 'quickfix', diagnostics, command: { title, command, arguments: [change.actionId] } });
    }
  }
  return actions;
}

/**
 * The lines of each file a unified diff would change, in the old file's numbering (0-based
 * ranges of whole lines): removed lines, and the line an insertion goes before.
 */
export function changedRanges(diff: string): Map<string, Range[]> {
  const out = new Map<string, Range[]>();
  const lines = diff.split('\n');
  let path: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('--- ')) {
      const old = line.slice(4).split('\t')[0]!;
      const next = (lines[i + 1] ?? '').startsWith('+++ ') ? lines[i + 1]!.slice(4).split('\t')[0]! : old;
      path = (next !== '/dev/null' ? next : old).replace(/^[ab]\//, '');
      i++;
      continue;
    }
    const header = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(line);
    if (!header || path === undefined) continue;
    let oldLine = Number(header[1]) || 1;
    let oldLeft = header[2] === undefined ? 1 : Number(header[2]);
    let newLeft = header[3] === undefined ? 1 : Number(header[3]);
    let first: number | undefined;
    let last: number | undefined;
    let replacing = false;
    const mark = (at: number) => {
      first = first === undefined ? at : Math.min(first, at);
      last = last === undefined ? at : Math.max(last, at);
    };
    while ((oldLeft > 0 || newLeft > 0) && i + 1 < lines.length) {
      const body = lines[++i]!;
      if (body.startsWith('\\')) continue;
      if (body.startsWith('-')) {
        mark(oldLine++);
        oldLeft--;
        replacing = true;
      } else if (body.startsWith('+')) {
        // Added lines after removed ones replace them; otherwise they go before the current line.
        if (!replacing) mark(Math.max(1, oldLine));
        newLeft--;
      } else {
        oldLine++;
        oldLeft--;
        newLeft--;
        replacing = false;
      }
    }
    if (first === undefined || last === undefined) continue;
    const ranges = out.get(path) ?? [];
    ranges.push({ start: { line: first - 1, character: 0 }, end: { line: last, character: 0 } });
    out.set(path, ranges);
  }
  return out;
}
