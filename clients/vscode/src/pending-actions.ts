import type { RestClient } from './rest-client';

/** An action as action_list/action_get answer it (src/operations/action-operations.ts): a protocol fact, copied. */
export interface ActionView {
  id: string;
  operation: string;
  status: string;
  done: boolean;
  workspace_id: string | null;
  requested_by: string;
  preview?: string;
  decided_by?: string;
  reason?: string;
  error?: { code: string; message: string };
  expires_at?: string;
}

/**
 * Where held actions are listed and decided: the REST operations for a remote server, or the
 * LSP facade's `codebuddy.*` commands for a local `codebuddy lsp` (which has no HTTP). Both run
 * the same operations (action_list, action_get, action_approve, action_reject) with the same checks.
 */
export interface PendingActions {
  /** The held (proposed) actions, newest first; the first page is enough for a view. */
  list(): Promise<ActionView[]>;
  get(id: string): Promise<ActionView>;
  approve(id: string, reason?: string): Promise<ActionView>;
  reject(id: string, reason?: string): Promise<ActionView>;
}

export class RestPendingActions implements PendingActions {
  constructor(private readonly rest: RestClient) {}

  async list(): Promise<ActionView[]> {
    return (await this.output<{ actions: ActionView[] }>('action_list', { status: 'proposed' })).actions;
  }

  get(id: string): Promise<ActionView> {
    return this.output('action_get', { id });
  }

  approve(id: string, reason?: string): Promise<ActionView> {
    return this.output('action_approve', reason ? { id, reason } : { id });
  }

  reject(id: string, reason?: string): Promise<ActionView> {
    return this.output('action_reject', reason ? { id, reason } : { id });
  }

  private async output<O>(operation: string, input: Record<string, unknown>): Promise<O> {
    const outcome = await this.rest.call<O>(operation, input);
    // Deciding is an approver's act, never itself held; an answer that says otherwise is not one.
    if (outcome.held) throw new Error(`${operation} was held for approval (${outcome.pending.action_id})`);
    return outcome.output;
  }
}
