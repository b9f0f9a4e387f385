import { CodeBuddyError } from '../core/errors.js';

/**
 * The one answer every tool that needs a Docker workspace's container gives while it does not
 * run: retryable E_UNAVAILABLE naming the workspace, why, and what brings it back. Whether the
 * status already says so or the engine refused first (the container died a moment ago), the
 * agent reads the same thing.
 */
export function containerNotRunning(workspace: { id: string; name: string }, status: string, why: string | undefined): CodeBuddyError {
  const cause = why ? ` (${why})` : '';
  const message =
    status === 'lost'
      ? `workspace ${workspace.name}'s container is gone${cause}; workspace_start makes it a new one (the files are kept)`
      : `workspace ${workspace.name}'s container is not running${cause}; workspace_start restarts it`;
  return new CodeBuddyError('E_UNAVAILABLE', message, { retryable: true, workspace: workspace.id, status, remedy: 'workspace_start' });
}

/** The engine itself cannot be reached (restarting, its socket gone): nothing in any container can run meanwhile. */
export function engineUnreachable(workspace: { id: string; name: string }): CodeBuddyError {
  return new CodeBuddyError('E_UNAVAILABLE', `the Docker engine is not reachable: workspace ${workspace.name}'s container cannot be used until it is back; retry`, {
    retryable: true,
    workspace: workspace.id,
  });
}

/** An engine API failure that means the engine is not there at all (no HTTP answer). */
export function isEngineUnreachable(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return (error as { statusCode?: number } | undefined)?.statusCode === undefined && ['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'EACCES'].includes(code ?? '');
}

/**
 * What the engine's refusal of a call on one container means for the agent: 404 (removed) and
 * 409 (not running, paused) become the answer above; an unreachable engine its own; anything
 * else is left alone.
 */
export function containerRefusal(workspace: { id: string; name: string }, error: unknown): unknown {
  const statusCode = (error as { statusCode?: number } | undefined)?.statusCode;
  if (statusCode === 404) return containerNotRunning(workspace, 'lost', 'removed outside CodeBuddy');
  if (statusCode === 409) return containerNotRunning(workspace, 'stopped', /paused/i.test(String((error as Error).message)) ? 'paused outside CodeBuddy' : 'stopped outside CodeBuddy');
  if (isEngineUnreachable(error)) return engineUnreachable(workspace);
  return error;
}
