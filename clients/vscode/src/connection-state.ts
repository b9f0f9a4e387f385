/**
 * The connection's state machine: what the status bar shows and whether a lost connection is
 * tried again. Pure (no `vscode` import). The extension feeds it the language client's and
 * the socket's events and acts on the state it lands in.
 */
export type ConnectionState =
  | { state: 'disconnected' }
  | { state: 'connecting'; target: string; attempt: number }
  | { state: 'connected'; target: string; pending: number }
  | { state: 'failed'; reason: string };

export type ConnectionEvent =
  /** The user (or activation) asks to connect to a target. */
  | { type: 'connect'; target: string }
  /** The language client runs: initialize was answered. */
  | { type: 'running' }
  /** The transport ended: a WebSocket close code and reason, or a local process that exited (no code). */
  | { type: 'closed'; code?: number; reason?: string }
  /** Could not start at all (no such command, refused upgrade, settings missing). */
  | { type: 'error'; message: string }
  /** The user disconnects. */
  | { type: 'disconnect' }
  /** How many actions wait for approval. */
  | { type: 'pending'; count: number };

/** Connections lost in a row tried again before giving up (the user can always Connect again). */
export const MAX_ATTEMPTS = 5;

export const initialState: ConnectionState = { state: 'disconnected' };

export function transition(state: ConnectionState, event: ConnectionEvent): ConnectionState {
  switch (event.type) {
    case 'connect':
      return { state: 'connecting', target: event.target, attempt: 1 };
    case 'disconnect':
      return { state: 'disconnected' };
    case 'running':
      return state.state === 'connecting' ? { state: 'connected', target: state.target, pending: 0 } : state;
    case 'pending':
      return state.state === 'connected' ? { ...state, pending: event.count } : state;
    case 'error':
      // Errors on a running connection are the language client's to log; otherwise nothing runs.
      return state.state === 'connected' ? state : { state: 'failed', reason: event.message };
    case 'closed': {
      if (state.state !== 'connecting' && state.state !== 'connected') return state;
      const closed = closeReason(event.code, event.reason ?? '');
      if (!closed.retry) return { state: 'failed', reason: closed.message };
      // Attempt 1 was the first connect: a connection that had come up counts afresh from there, one that never did counts on.
      const attempt = state.state === 'connected' ? 2 : state.attempt + 1;
      if (attempt > MAX_ATTEMPTS) return { state: 'failed', reason: `${closed.message}; gave up after ${MAX_ATTEMPTS} attempts (CodeBuddy: Connect to try again)` };
      return { state: 'connecting', target: state.target, attempt };
    }
  }
}

/** Whether the language client should restart its transport now: the machine is trying again. */
export function shouldRestart(state: ConnectionState): boolean {
  return state.state === 'connecting' && state.attempt > 1;
}

export function statusText(state: ConnectionState): { text: string; tooltip: string } {
  switch (state.state) {
    case 'disconnected':
      return { text: '$(debug-disconnect) CodeBuddy', tooltip: 'CodeBuddy: not connected (CodeBuddy: Connect)' };
    case 'connecting':
      return {
        text: '$(sync~spin) CodeBuddy',
        tooltip: `CodeBuddy: connecting to ${state.target}${state.attempt > 1 ? ` (attempt ${state.attempt} of ${MAX_ATTEMPTS})` : ''}`,
      };
    case 'connected':
      return {
        text: state.pending > 0 ? `$(check) CodeBuddy · ${state.pending} pending` : '$(check) CodeBuddy',
        tooltip: `CodeBuddy: connected to ${state.target}${state.pending > 0 ? `; ${state.pending === 1 ? '1 agent action waits' : `${state.pending} agent actions wait`} for approval` : ''}`,
      };
    case 'failed':
      return { text: '$(error) CodeBuddy', tooltip: `CodeBuddy: ${state.reason}` };
  }
}

/**
 * What a close of the remote socket means (codes as `/lsp/:workspace` sends them): 4401 the
 * token, 4404 the workspace, other 44xx refusals are final; anything else may be tried again.
 */
export function closeReason(code: number | undefined, reason: string): { retry: boolean; message: string } {
  if (code === 4401) return { retry: false, message: 'the token was refused: set it again (CodeBuddy: Set Token)' };
  if (code === 4404) return { retry: false, message: `no such workspace for this token (${reason})` };
  if (code !== undefined && code >= 4400 && code < 4500) return { retry: false, message: reason || `refused (${code})` };
  if (code === undefined) return { retry: true, message: reason || 'the language server process exited' };
  return { retry: true, message: reason || `connection closed (${code})` };
}
