import { spawn } from 'node:child_process';
import { spawn as spawnPty } from 'node-pty';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CommandWatch } from './command-watch.js';
import { capturedOutput, OutputCapture } from './output-capture.js';
import { ProcessCgroup, type ProcessLimits } from './process-cgroup.js';
import type { ExecRequest, ExecResult, PtyProcess, PtyRequest, Runtime } from './runtime.js';

/** Joins the cgroups named (colon-separated) in $0, then becomes the command: no window to escape. */
const JOIN_CGROUP_THEN_EXEC = 'IFS=:; for f in $0; do echo $$ > "$f"; done; unset IFS; exec "$@"';

export interface LocalRuntimeOptions {
  limits: ProcessLimits;
  /** A HOME per workspace, outside it, so tools' caches do not land in the user's files. */
  homeRoot: string;
  /** The PATH commands see. */
  path: string;
}

/**
 * Commands on the host. Each runs in its own process group (and, where the host allows, its
 * own cgroup with process and memory caps), with a scrubbed environment; on timeout,
 * cancellation or exit, the whole tree is killed, including what it left in the background.
 */
export class LocalRuntime implements Runtime {
  readonly kind = 'local' as const;

  constructor(private readonly options: LocalRuntimeOptions) {}

  /**
   * What every local process gets: a scrubbed environment with a HOME of its own, and its
   * cgroup (where possible), joined by a wrapper before the program starts.
   */
  private prepare(label: string, file: string, args: string[], term: string, extraEnv: Record<string, string> = {}) {
    const home = join(this.options.homeRoot, label.replace(/[^\w.-]/g, '_').slice(0, 60));
    mkdirSync(home, { recursive: true });
    const env = { PATH: this.options.path, HOME: home, LANG: 'C.UTF-8', TERM: term, ...extraEnv };
    const cgroup = ProcessCgroup.create(label, this.options.limits);
    const argv: [string, string[]] = cgroup ? ['/bin/sh', ['-c', JOIN_CGROUP_THEN_EXEC, cgroup.procsFiles.join(':'), file, ...args]] : [file, args];
    return { env, cgroup, argv };
  }

  spawnPty(request: PtyRequest): PtyProcess {
    const { env, cgroup, argv } = this.prepare(`pty-${request.label}`, request.shell, [], 'xterm-256color');
    const pty = spawnPty(argv[0], argv[1], { name: 'xterm-256color', cols: request.cols, rows: request.rows, cwd: request.cwd, env });
    let killed = false;
    const kill = () => {
      if (killed) return;
      killed = true;
      try {
        // node-pty starts the program as a session leader: its pid is the process group's.
        process.kill(-pty.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      cgroup?.killAll();
    };
    pty.onExit(() => {
      kill();
      cgroup?.remove();
    });
    return {
      onData: (listener) => void pty.onData(listener),
      onExit: (listener) => void pty.onExit(({ exitCode, signal }) => listener({ exitCode, signal: signal ?? null })),
      write: (data) => pty.write(data),
      resize: (cols, rows) => pty.resize(cols, rows),
      kill,
    };
  }

  exec(request: ExecRequest): Promise<ExecResult> {
    const started = performance.now();
    const [file, args] = typeof request.command === 'string' ? ['/bin/sh', ['-c', request.command]] : [request.command[0]!, request.command.slice(1)];
    const { env, cgroup, argv } = this.prepare(`exec-${request.label}`, file, args, 'dumb', request.env);
    const [spawnFile, spawnArgs] = argv;

    const stdout = new OutputCapture(request.maxOutputBytes);
    const stderr = new OutputCapture(request.maxOutputBytes);
    return new Promise<ExecResult>((resolve) => {
      const child = spawn(spawnFile, spawnArgs, { cwd: request.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));

      const killTree = (signal: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, signal);
        } catch {
          // the group is gone
        }
        if (signal === 'SIGKILL') cgroup?.killAll();
      };
      const watch = new CommandWatch(request, killTree, () => stderr.latestLine || stdout.latestLine);

      let settled = false;
      const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
        if (settled) return;
        settled = true;
        watch.dispose();
        // Whatever the command left running dies with it.
        killTree('SIGKILL');
        const limit = cgroup?.memoryKilled ? 'memory' : cgroup?.pidsExhausted ? 'pids' : null;
        cgroup?.remove();
        resolve({
          exitCode,
          signal,
          timedOut: watch.timedOut,
          cancelled: watch.cancelled,
          limit,
          durationMs: performance.now() - started,
          ...capturedOutput(stdout, stderr),
        });
      };
      child.on('error', (error: NodeJS.ErrnoException) => {
        stderr.push(Buffer.from(`${file}: ${error.code === 'ENOENT' ? 'command not found' : error.message}\n`));
        finish(error.code === 'ENOENT' ? 127 : 126, null);
      });
      child.on('exit', (code, signal) => {
        // Background children may still hold the pipes; give the streams a moment, not forever.
        let pending = 2;
        const done = () => --pending === 0 && finish(code, signal);
        const grace = setTimeout(() => finish(code, signal), 200);
        grace.unref();
        for (const stream of [child.stdout, child.stderr]) {
          if (stream.readableEnded || stream.destroyed) done();
          else stream.once('close', done);
        }
      });
    });
  }
}
