/** Where a workspace's commands run. Files stay on the host either way. */
export interface Runtime {
  readonly kind: 'local' | 'docker';
  exec(request: ExecRequest): Promise<ExecResult>;
  spawnPty(request: PtyRequest): PtyProcess;
  /** A long-lived program talking over pipes (a language server), confined like `exec`. */
  spawnStdio(request: StdioRequest): Promise<StdioProcess>;
}

export interface StdioRequest {
  /** Names the run (cgroups, logs); unique per start. */
  label: string;
  /** Absolute host path, already confined to the workspace. */
  cwd: string;
  /** argv, run as is (absolute, or found on the runtime's PATH). */
  command: string[];
  /** Variables the caller asked for; the runtime adds a minimal base, never the server's own. */
  env: Record<string, string>;
  /**
   * Host paths the program itself needs (a language server's installation, its Node binary),
   * made readable, never writable, at the same path inside a local sandbox wherever they lie.
   */
  readOnly?: readonly string[];
}

/** A running program with piped stdio, as a runtime hands it out. */
export interface StdioProcess {
  readonly stdin: NodeJS.WritableStream;
  readonly stdout: NodeJS.ReadableStream;
  readonly stderr: NodeJS.ReadableStream;
  /** The host pid at the top of its process tree (for memory figures), when known. */
  readonly pid: number | undefined;
  /** Settles once the program has exited (never rejects). */
  readonly exited: Promise<{ exitCode: number | null; signal: string | null }>;
  /** Ends the program and everything it started. */
  kill(): void;
}

export interface PtyRequest {
  label: string;
  cwd: string;
  /** The program to run in the terminal, e.g. /bin/bash. */
  shell: string;
  cols: number;
  rows: number;
}

/** A program on a pseudo-terminal, as a runtime hands it out. */
export interface PtyProcess {
  onData(listener: (data: string) => void): void;
  /** `reason`, when the runtime knows better than the exit code why it ended (its container stopped). */
  onExit(listener: (exit: { exitCode: number; signal: number | null; reason?: string }) => void): void;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  /** Ends the program and everything it started. */
  kill(): void;
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
