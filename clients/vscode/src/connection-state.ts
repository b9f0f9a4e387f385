/**
 * The connection's state as the status bar shows it. Pure (no `vscode` import).
 */
export type ConnectionState =
  | { state: 'disconnected' }
  | { state: 'connecting'; target: string }
  | { state: 'connected'; target: string; pending: number }
  | { state: 'failed'; reason: string };

export function statusText(state: ConnectionState): { text: string; tooltip: string } {
  switch (state.state) {
    case 'disconnected':
      return { text: '$(debug-disconnect) CodeBuddy', tooltip: 'CodeBuddy: not connected (CodeBuddy: Connect)' };
    case 'connecting':
      return { text: '$(sync~spin) CodeBuddy', tooltip: `CodeBuddy: connecting to ${state.target}` };
    case 'connected':
      return {
        text: state.pending > 0 ? `$(check) CodeBuddy · ${state.pending} pending` : '$(check) CodeBuddy',
        tooltip: `CodeBuddy: connected to ${state.target}${state.pending > 0 ? `; ${state.pending} agent action${state.pending === 1 ? '' : 's'} wait for approval` : ''}`,
      };
    case 'failed':
      return { text: '$(error) CodeBuddy', tooltip: `CodeBuddy: ${state.reason}` };
  }
}

/** Which state a close code of the remote socket means: 44xx are refusals (no retry), others may be retried. */
export function closeReason(code: number, reason: string): { retry: boolean; message: string } {
  if (code === 4401) return { retry: false, message: 'the token was refused: set it again (CodeBuddy: Set Token)' };
  if (code === 4404) return { retry: false, message: `no such workspace for this token (${reason})` };
  if (code >= 4400 && code < 4500) return { retry: false, message: reason || `refused (${code})` };
  return { retry: true, message: reason || `connection closed (${code})` };
}
