import { spawn, type ChildProcess } from 'node:child_process';
import { spawn as spawnPty } from 'node-pty';
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { constants } from 'node:os';
import { join, relative } from 'node:path';
import { CodeBuddyError } from '../../core/errors.js';
import { WORKSPACE_MOUNT, type Workspace } from '../workspace.js';
import { environmentArgs, sandboxSees, type BubblewrapSandbox, type SandboxIdentity } from './bubblewrap-sandbox.js';
import { CommandWatch } from './command-watch.js';
import { capturedOutput, OutputCapture } from './output-capture.js';
import { ProcessCgroup, type ProcessLimits } from './process-cgroup.js';
import type { ExecRequest, ExecResult, PtyProcess, PtyRequest, Runtime, StdioProcess, StdioRequest } from './runtime.js';
import { planMasks, releaseMasks } from './sandbox-masks.js';

/** Joins the cgroups named (colon-separated) in $0, then becomes the command: no window to escape. */
const JOIN_CGROUP_THEN_EXEC = 'IFS=:; for f in $0; do echo $$ > "$f"; done; unset IFS; exec "$@"';

export interface LocalRuntimeOptions {
  limits: ProcessLimits;
  /** A HOME per command outside the workspace, for unsandboxed commands (sandboxed ones get a private /tmp). */
  homeRoot: string;
  /** The PATH commands see. */
  path: string;
  /** The sandbox every command runs in, or why none can be made on this host. */
  sandbox: { sandbox: BubblewrapSandbox } | { unavailable: string };
  /** The operator's explicit choice to run commands as the server's user when there is no sandbox. */
  allowUnsandboxed: boolean;
  /** Host paths no command may see: the data directory, the config file, every workspace. */
  hiddenPaths: () => string[];
  /** Path globs the workspace's policy denies: masked inside its commands' sandbox. */
  deniedGlobs: (workspace: Workspace) => string[];
}

/** A process about to start: what to spawn, where, with what, and what to undo afterwards. */
interface Prepared {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  cgroup: ProcessCgroup | undefined;
  /** Undoes what preparing made (mask stand-ins); the cgroup is removed by the caller. */
  release: () => void;
  /** Whether the program runs behind bwrap, which reports a signal as the shell does (128 + n). */
  sandboxed: boolean;
  /** For the sandbox: its further arguments (the caller's variables), written to the child's fd 3. */
  fd3?: Buffer;
}

const signalNames = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]));

/**
 * bwrap's init exits 128 + n when the program died of signal n, as a shell's `$?` does: read it
 * back as the signal (a program that itself exits 137 is taken for SIGKILL, as a shell would).
 */
function statusThroughSandbox(status: number | null, signal: NodeJS.Signals | null): { exitCode: number | null; signal: NodeJS.Signals | null } {
  const name = status !== null && status > 128 ? signalNames.get(status - 128) : undefined;
  return name ? { exitCode: null, signal: name } : { exitCode: status, signal };
}

/** The fd the sandbox reads the caller's variables from (see SandboxScope.argsFd). */
const ENV_ARGS_FD = 3;

/**
 * Commands of one workspace on this host. Each runs sandboxed (bubblewrap, as the workspace's
 * unprivileged owner, see bubblewrap-sandbox.ts) in its own process group and, where the host
 * allows, its own cgroup with process and memory caps, with a scrubbed environment; on timeout,
 * cancellation or exit, the whole tree is killed, including what it left in the background.
 * Without a sandbox, commands run only where the operator allowed it explicitly.
 */
export class LocalRuntime implements Runtime {
  readonly kind = 'local' as const;

  constructor(
    private readonly options: LocalRuntimeOptions,
    private readonly workspace: Workspace,
  ) {}

  /** A terminal (`pty`) keeps its tty and has no variables of the caller's; a command gets a session of its own and may have some. */
  private prepare(label: string, cwd: string, program: string[], how: { term: string; pty: boolean; env?: Record<string, string>; exposed?: readonly string[] }): Prepared {
    const { term, pty, env: extraEnv = {}, exposed = [] } = how;
    const base = { PATH: this.options.path, LANG: 'C.UTF-8', TERM: term };
    const setup = this.options.sandbox;
    if ('sandbox' in setup) {
      // Whatever may refuse the command comes first, before anything is made for it.
      const identity = this.identity();
      const fd3 = pty ? undefined : environmentArgs(extraEnv);
      const plan = planMasks(this.workspace.root, this.options.deniedGlobs(this.workspace));
      const cgroup = ProcessCgroup.create(label, this.options.limits);
      const scope = {
        root: this.workspace.root,
        identity,
        network: this.workspace.network === true,
        hidden: this.options.hiddenPaths(),
        masked: plan.masks,
        exposed,
        newSession: !pty,
        ...(pty ? {} : { argsFd: ENV_ARGS_FD }),
      };
      const inside = join(WORKSPACE_MOUNT, relative(this.workspace.root, cwd));
      const [file, args] = setup.sandbox.command(scope, cgroup?.procsFiles ?? [], inside, program);
      const release = () => releaseMasks(this.workspace.root, plan);
      return { file, args, cwd: '/', env: { ...base, HOME: '/tmp' }, cgroup, release, sandboxed: true, ...(fd3 ? { fd3 } : {}) };
    }
    if (!this.options.allowUnsandboxed) {
      throw new CodeBuddyError('E_FORBIDDEN', `commands are refused on this server: no sandbox can be made (${setup.unavailable}), and CODEBUDDY_ALLOW_UNSANDBOXED is not set; use a Docker workspace`);
    }
    const cgroup = ProcessCgroup.create(label, this.options.limits);
    const home = join(this.options.homeRoot, label.replace(/[^\w.-]/g, '_').slice(0, 60));
    mkdirSync(home, { recursive: true });
    const env = { ...base, HOME: home, ...extraEnv };
    const [file, args] = cgroup ? ['/bin/sh', ['-c', JOIN_CGROUP_THEN_EXEC, cgroup.procsFiles.join(':'), ...program]] : [program[0]!, program.slice(1)];
    return { file, args, cwd, env, cgroup, release: () => undefined, sandboxed: false };
  }

  /**
   * The uid a sandboxed command runs as: the workspace's owner, never root and never the
   * server's own user (those would reach the server's files and processes).
   */
  private identity(): SandboxIdentity {
    // The owner on record, the one the file tools give new files to: the two never disagree.
    const owner = this.workspace.owner;
    if (!owner || owner.uid === 0 || owner.uid === process.getuid?.()) {
      throw new CodeBuddyError(
        'E_FORBIDDEN',
        `workspace ${this.workspace.name} has no owner its commands may run as: its directory belongs to root or the server's own user, and commands never run as those. Give the directory to the user who should run them (chown -R), then adopt it again (serve --stdio --workspace does so at start)`,
      );
    }
    return owner;
  }

  spawnPty(request: PtyRequest): PtyProcess {
    const prepared = this.prepare(`pty-${request.label}`, request.cwd, [request.shell], { term: 'xterm-256color', pty: true });
    const { cgroup } = prepared;
    let pty: ReturnType<typeof spawnPty>;
    try {
      pty = spawnPty(prepared.file, prepared.args, { name: 'xterm-256color', cols: request.cols, rows: request.rows, cwd: prepared.cwd, env: prepared.env });
    } catch (error) {
      cgroup?.remove();
      prepared.release();
      throw error;
    }
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
      prepared.release();
    });
    return {
      onData: (listener) => void pty.onData(listener),
      onExit: (listener) => void pty.onExit(({ exitCode, signal }) => listener({ exitCode, signal: signal ?? null })),
      write: (data) => pty.write(data),
      resize: (cols, rows) => pty.resize(cols, rows),
      kill,
    };
  }

  /**
   * Starts a prepared program detached (its own process group, so the whole group can be
   * killed), handing the sandbox the caller's variables on fd 3. `killTree` signals the group
   * and, for SIGKILL, everything in the cgroup, including what left the group.
   */
  private start(prepared: Prepared, stdin: 'ignore' | 'pipe'): { child: ChildProcess; killTree: (signal: NodeJS.Signals) => void } {
    const child = spawn(prepared.file, prepared.args, { cwd: prepared.cwd, env: prepared.env, detached: true, stdio: [stdin, 'pipe', 'pipe', prepared.fd3 ? 'pipe' : 'ignore'] });
    if (prepared.fd3) {
      const args = child.stdio[ENV_ARGS_FD] as NodeJS.WritableStream;
      args.on('error', () => undefined); // a sandbox that failed to start reads nothing; its exit says why
      args.end(prepared.fd3);
    }
    const killTree = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // the group is gone
      }
      if (signal === 'SIGKILL') prepared.cgroup?.killAll();
    };
    return { child, killTree };
  }

  async spawnStdio(request: StdioRequest): Promise<StdioProcess> {
    if ('sandbox' in this.options.sandbox) {
      // A server installed where the sandbox cannot see (under /root, /home, /tmp) and not exposed to it would fail obscurely inside: say so here.
      const hidden = this.options.hiddenPaths();
      const exposed = (request.readOnly ?? []).flatMap((path) => (existsSync(path) ? [realpathSync(path)] : []));
      const visible = (path: string) => sandboxSees(path, hidden) || exposed.some((root) => path === root || path.startsWith(`${root}/`));
      const unseen = request.command.find((arg) => arg.startsWith('/') && existsSync(arg) && !visible(realpathSync(arg)));
      if (unseen) throw new CodeBuddyError('E_CONFIG', `${unseen} is not visible inside the sandbox (install it under a directory such as /usr or /opt)`, { path: unseen });
    }
    const prepared = this.prepare(`stdio-${request.label}`, request.cwd, request.command, { term: 'dumb', pty: false, env: request.env, exposed: request.readOnly ?? [] });
    const { child, killTree } = this.start(prepared, 'pipe');
    const exited = new Promise<{ exitCode: number | null; signal: string | null }>((resolve) => {
      let done = false;
      const finish = (status: number | null, ended: NodeJS.Signals | null) => {
        if (done) return;
        done = true;
        // Whatever the program left running (a server's workers) dies with it.
        killTree('SIGKILL');
        prepared.cgroup?.remove();
        prepared.release();
        resolve(prepared.sandboxed ? statusThroughSandbox(status, ended) : { exitCode: status, signal: ended });
      };
      child.on('error', () => finish(127, null));
      child.on('exit', finish);
    });
    return {
      stdin: child.stdin!,
      stdout: child.stdout!,
      stderr: child.stderr!,
      pid: child.pid,
      exited,
      kill: () => killTree('SIGKILL'),
    };
  }

  exec(request: ExecRequest): Promise<ExecResult> {
    const started = performance.now();
    const program = typeof request.command === 'string' ? ['/bin/sh', '-c', request.command] : request.command;
    const prepared = this.prepare(`exec-${request.label}`, request.cwd, program, { term: 'dumb', pty: false, env: request.env });
    const { cgroup } = prepared;

    const stdout = new OutputCapture(request.maxOutputBytes);
    const stderr = new OutputCapture(request.maxOutputBytes);
    return new Promise<ExecResult>((resolve) => {
      const { child, killTree } = this.start(prepared, 'ignore');
      // Both are pipes (see start); the typing loses that once the fourth entry is chosen at run time.
      const [out, err] = [child.stdout!, child.stderr!];
      out.on('data', (chunk: Buffer) => stdout.push(chunk));
      err.on('data', (chunk: Buffer) => stderr.push(chunk));

      const watch = new CommandWatch(request, killTree, () => stderr.latestLine || stdout.latestLine);

      let settled = false;
      const finish = (status: number | null, ended: NodeJS.Signals | null) => {
        if (settled) return;
        const { exitCode, signal } = prepared.sandboxed ? statusThroughSandbox(status, ended) : { exitCode: status, signal: ended };
        settled = true;
        watch.dispose();
        // Whatever the command left running dies with it.
        killTree('SIGKILL');
        const limit = cgroup?.memoryKilled ? 'memory' : cgroup?.pidsExhausted ? 'pids' : null;
        cgroup?.remove();
        prepared.release();
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
        stderr.push(Buffer.from(`${program[0]}: ${error.code === 'ENOENT' ? 'command not found' : error.message}\n`));
        finish(error.code === 'ENOENT' ? 127 : 126, null);
      });
      child.on('exit', (code, signal) => {
        // Background children may still hold the pipes; give the streams a moment, not forever.
        let pending = 2;
        const done = () => --pending === 0 && finish(code, signal);
        const grace = setTimeout(() => finish(code, signal), 200);
        grace.unref();
        for (const stream of [out, err]) {
          if (stream.readableEnded || stream.destroyed) done();
          else stream.once('close', done);
        }
      });
    });
  }
}
