/** Where a workspace's commands run. Files stay on the host either way. */
export interface Runtime {
  readonly kind: 'local' | 'docker';
  exec(request: ExecRequest): Promise<ExecResult>;
}

export interface ExecRequest {
  /** Names the run (cgroups, containers, logs): the action id. */
  label: string;
  /** Absolute host path, already confined to the workspace. */
  cwd: string;
  /** argv, run as is; or a string, run by /bin/sh -c. */
  command: string | string[];
  /** Variables the caller asked for; the runtime adds a minimal base, never the server's own. */
  env: Record<string, string>;
  timeoutMs: number;
  /** Per stream: the head and the tail are kept, the middle is elided. */
  maxOutputBytes: number;
  signal: AbortSignal;
  onProgress?: (elapsedMs: number, latestLine: string) => void;
}

export interface ExecResult {
  exitCode: number | null;
  /** The signal that ended the command, when one did. */
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  /** Which runtime limit stopped it, when one did. */
  limit: 'memory' | 'pids' | null;
  durationMs: number;
  stdout: string;
  stderr: string;
  stdoutBytes: number;
  stderrBytes: number;
  truncated: boolean;
}
