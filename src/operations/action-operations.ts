import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { CodeBuddyError } from '../core/errors.js';
import { moreMarker } from '../core/more-marker.js';
import type { Principal } from '../auth/principal.js';
import { terminalStates, type ProposalService } from '../ledger/proposal-service.js';
import type { ActionRepository, ActionRow } from '../store/action-repository.js';
import { proposalStates, type ProposalRow } from '../store/proposal-repository.js';
import { tenantOperation, type Operation } from './operation.js';

const actionView = z.object({
  id: z.string(),
  operation: z.string(),
  status: z.string(),
  done: z.boolean(),
  workspace_id: z.string().nullable(),
  requested_by: z.string(),
  preview: z.string().optional(),
  decided_by: z.string().optional(),
  reason: z.string().optional(),
  result: z.record(z.string(), z.unknown()).optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  expires_at: z.string().optional(),
});
type ActionView = z.infer<typeof actionView>;

function viewOfProposal(row: ProposalRow): ActionView {
  return {
    id: row.action_id,
    operation: row.operation,
    status: row.state,
    done: terminalStates.includes(row.state),
    workspace_id: row.workspace_id,
    requested_by: row.requested_by,
    preview: row.preview,
    ...(row.decided_by ? { decided_by: row.decided_by } : {}),
    ...(row.reason ? { reason: row.reason } : {}),
    ...(row.result_json ? { result: JSON.parse(row.result_json) as Record<string, unknown> } : {}),
    ...(row.error_code ? { error: { code: row.error_code, message: row.error_message ?? '' } } : {}),
    expires_at: new Date(row.expires_at).toISOString(),
  };
}

/** A call that ran at once has no proposal: its action row tells how it ended. */
function viewOfAction(row: ActionRow): ActionView {
  return {
    id: row.id,
    operation: row.operation,
    status: row.status,
    done: true,
    workspace_id: row.workspace_id,
    requested_by: `${row.tenant_id}/${row.user_id}`,
    ...(row.error_code ? { error: { code: row.error_code, message: row.result_summary ?? '' } } : {}),
  };
}

function render(view: ActionView): string {
  const lines = [`${view.id} ${view.operation} ${view.status}${view.done ? '' : ' (not decided yet)'}`];
  if (view.decided_by) lines.push(`decided by ${view.decided_by}${view.reason ? `: ${view.reason}` : ''}`);
  if (view.error) lines.push(`${view.error.code}: ${view.error.message}`);
  if (view.expires_at && !view.done) lines.push(`expires ${view.expires_at}`);
  if (view.preview && !view.done) lines.push(view.preview);
  return lines.join('\n');
}

const id = z.string().min(1).max(100).describe('Action id');
const approvers = ['approver', 'admin'] as const;

export function actionOperations(proposals: ProposalService, actions: ActionRepository, pageSize: number): Operation[] {
  const view = (principal: Principal, actionId: string): ActionView => {
    const proposal = proposals.get(principal.tenantId, actionId);
    if (proposal) return viewOfProposal(proposal);
    const action = actions.findById(principal.tenantId, actionId);
    if (!action) throw new CodeBuddyError('E_NOT_FOUND', `action ${actionId} not found`, { field: 'id' });
    return viewOfAction(action);
  };
  const decide = (verdict: 'approve' | 'reject') =>
    tenantOperation({
      name: `action_${verdict}`,
      rest: { method: 'POST', path: `/api/actions/{id}/${verdict}` },
      title: verdict === 'approve' ? 'Approve action' : 'Reject action',
      description: verdict === 'approve' ? 'Approve a held action and apply it (approver role).' : 'Reject a held action (approver role).',
      effect: 'admin',
      idempotent: false,
      destructive: verdict === 'approve',
      roles: approvers,
      input: z.object({ id, reason: z.string().max(2000).optional() }),
      output: actionView,
      async run(input, context, touch) {
        const row = await proposals.decide(context.principal, input.id, verdict, input.reason);
        touch(row.workspace_id);
        return viewOfProposal(row);
      },
      render,
    });

  return [
    tenantOperation({
      name: 'action_get',
      rest: { method: 'GET', path: '/api/actions/{id}' },
      title: 'Get action',
      description: 'Status of an action: a held one shows its preview, decision and result.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({ id }),
      output: actionView,
      run: async (input, context) => view(context.principal, input.id),
      render,
    }),
    tenantOperation({
      name: 'action_wait',
      title: 'Wait for action',
      description: 'Wait up to timeout_s for a held action to be decided and applied.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({ id, timeout_s: z.number().min(0).max(25).optional().describe('Default 20; keep under your host timeout') }),
      output: actionView,
      async run(input, context) {
        const deadline = Date.now() + (input.timeout_s ?? 20) * 1000;
        // Polls the database, so a decision made by any process (server, CLI) is seen.
        for (;;) {
          const current = view(context.principal, input.id);
          if (current.done || Date.now() >= deadline || context.signal.aborted) return current;
          await sleep(Math.min(100, Math.max(0, deadline - Date.now())));
        }
      },
      render,
    }),
    tenantOperation({
      name: 'action_list',
      rest: { method: 'GET', path: '/api/actions' },
      title: 'List actions',
      description: 'Held actions (proposals), newest first, paged.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({ status: z.enum(proposalStates).optional(), cursor: z.string().max(8192).optional() }),
      output: z.object({ actions: z.array(actionView), next_cursor: z.string().optional() }),
      async run(input, context) {
        const before = input.cursor === undefined ? '\uffff' : decodeCursor<{ before: string; s: string }>('action_list', input.cursor).before;
        const rows = proposals.list(context.principal.tenantId, input.status, before, pageSize + 1);
        const page = rows.slice(0, pageSize).map(viewOfProposal);
        return rows.length > pageSize ? { actions: page, next_cursor: encodeCursor('action_list', { before: page[page.length - 1]!.id, s: input.status ?? '' }) } : { actions: page };
      },
      render: (out) =>
        (out.actions.length === 0 ? 'no held actions' : out.actions.map((a) => `${a.id} ${a.operation} ${a.status} by ${a.requested_by}`).join('\n')) +
        moreMarker(out.next_cursor, `${out.actions.length} shown`),
    }),
    decide('approve'),
    decide('reject'),
  ];
}
