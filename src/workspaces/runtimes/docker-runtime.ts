import { PassThrough, type Duplex } from 'node:stream';
import { posix, relative } from 'node:path';
import type Docker from 'dockerode';
import { containerNotRunning, containerRefusal, engineUnreachable, isEngineUnreachable } from '../container-unavailable.js';
import { WORKSPACE_MOUNT, type Workspace } from '../workspace.js';
import { CommandWatch } from './command-watch.js';
import { capturedOutput, OutputCapture } from './output-capture.js';
import type { ExecRequest, ExecResult, PtyProcess, PtyRequest, Runtime, StdioProcess, StdioRequest } from './runtime.js';

/**
 * Whether the container's main process (its host pid) still exists: the engine reports a
 * container killed a moment ago as running until it has handled the exit, but its processes,
 * and the commands' streams, are gone already.
 */
function hostProcessAlive(pid: number): boolean {
  try {
    if (pid > 0) process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Commands and terminals inside one workspace container, through `docker exec`. The engine
 * starts every exec'd process as a session and process-group leader, and reports its pid on
 * this host: a timeout or a cancellation kills that whole group, background children
 * included; the container's own caps (pids, memory, CPU) bound everything it starts.
 */
export class DockerRuntime implements Runtime {
  readonly kind = 'docker' as const;

  private readonly workspace: Pick<Workspace, 'id' | 'name' | 'root'>;

  constructor(
    private readonly docker: Docker,
    private readonly containerId: string,
    workspace: Pick<Workspace, 'id' | 'name' | 'root'>,
  ) {
    this.workspace = { id: workspace.id, name: workspace.name, root: workspace.root };
  }

  /** Host path inside the workspace → the same place inside the container. */
  private containerPath(hostPath: string): string {
    const inside = relative(this.workspace.root, hostPath).split('/').filter(Boolean);
    return posix.join(WORKSPACE_MOUNT, ...inside);
  }

  /**
   * An exec made and attached; the engine's refusal (the container died a moment ago, before
   * the workspace's status caught up) becomes the same answer a stopped workspace gives.
   */
  private async attach(options: Docker.ExecCreateOptions, start: Docker.ExecStartOptions): Promise<{ exec: Docker.Exec; stream: Duplex }> {
    try {
      const exec = await this.docker.getContainer(this.containerId).exec(options);
      return { exec, stream: (await exec.start(start)) as Duplex };
    } catch (error) {
      throw containerRefusal(this.workspace, error);
    }
  }

  /** Why the container no longer runs, when it does not: what ended a command or terminal early. */
  private async whyGone(when: string): Promise<Error | undefined> {
    try {
      const { State: state } = await this.docker.getContainer(this.containerId).inspect();
      if (state.Running && !state.Paused && hostProcessAlive(state.Pid)) return undefined;
      return containerNotRunning(this.workspace, 'stopped', `${state.Paused ? 'paused' : 'stopped'} ${when}`);
    } catch (error) {
      if (isEngineUnreachable(error)) return engineUnreachable(this.workspace);
      return containerNotRunning(this.workspace, 'lost', `removed ${when}`);
    }
  }

  async exec(request: ExecRequest): Promise<ExecResult> {
    const started = performance.now();
    const command = typeof request.command === 'string' ? ['/bin/sh', '-c', request.command] : request.command;
    const { exec, stream } = await this.attach(
      {
        Cmd: command,
        WorkingDir: this.containerPath(request.cwd),
        Env: Object.entries(request.env).map(([name, value]) => `${name}=${value}`),
        AttachStdout: true,
        AttachStderr: true,
      },
      { hijack: true, stdin: false },
    );
    const stdout = new OutputCapture(request.maxOutputBytes);
    const stderr = new OutputCapture(request.maxOutputBytes);
    const out = new PassThrough().on('data', (chunk: Buffer) => stdout.push(chunk));
    const err = new PassThrough().on('data', (chunk: Buffer) => stderr.push(chunk));
    this.docker.modem.demuxStream(stream, out, err);

    const killGroup = async (signal: NodeJS.Signals) => {
      const pid = (await exec.inspect().catch(() => undefined))?.Pid;
      try {
        if (pid) process.kill(-pid, signal);
      } catch {
        // the group is gone
      }
    };
    const watch = new CommandWatch(request, (signal) => void killGroup(signal), () => stderr.latestLine || stdout.latestLine);

    await new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    watch.dispose();
    await killGroup('SIGKILL');
    const info = await exec.inspect().catch(() => undefined);
    const exitCode = info?.ExitCode ?? null;
    // Killed with its container (stopped or removed while the command ran): that, not a memory limit, is the news.
    if (info === undefined || (exitCode === 137 && !watch.timedOut && !watch.cancelled)) {
      const gone = await this.whyGone('while the command ran');
      if (gone) throw gone;
    }
    // 137 = 128 + SIGKILL: from our kill, or the kernel's OOM killer inside the container's memory cap.
    const { timedOut, cancelled } = watch;
    const killed = exitCode === 137 || timedOut || cancelled;
    return {
      exitCode: killed ? null : exitCode,
      signal: killed ? 'SIGKILL' : null,
      timedOut,
      cancelled,
      limit: exitCode === 137 && !timedOut && !cancelled ? 'memory' : null,
      durationMs: performance.now() - started,
      ...capturedOutput(stdout, stderr),
    };
  }

  /**
   * `docker exec -i`: the hijacked stream carries stdin one way and the engine's multiplexed
   * stdout/stderr the other (demuxed here). The engine reports the exec's host pid, a process
   * group leader: killing the group ends the program and its children.
   */
  async spawnStdio(request: StdioRequest): Promise<StdioProcess> {
    const { exec, stream } = await this.attach(
      {
        Cmd: request.command,
        WorkingDir: this.containerPath(request.cwd),
        Env: Object.entries(request.env).map(([name, value]) => `${name}=${value}`),
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
      },
      { hijack: true, stdin: true },
    );
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    this.docker.modem.demuxStream(stream, stdout, stderr);
    // The engine may report the pid only once the process runs: asked again when it first speaks.
    let pid = (await exec.inspect().catch(() => undefined))?.Pid || undefined;
    if (pid === undefined) {
      stdout.once('data', () => void exec.inspect().then((info) => (pid = info.Pid || undefined), () => undefined));
    }
    // What is written goes to the program's stdin; ending it half-closes the connection.
    const stdin = new PassThrough();
    stdin.pipe(stream);
    stream.on('error', () => undefined);
    const exited = new Promise<{ exitCode: number | null; signal: string | null }>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        stdout.end();
        stderr.end();
        void exec
          .inspect()
          .then((info) => resolve({ exitCode: info.Running ? null : (info.ExitCode ?? null), signal: null }))
          .catch(() => resolve({ exitCode: null, signal: null }));
      };
      stream.on('end', finish);
      stream.on('close', finish);
    });
    return {
      stdin,
      stdout,
      stderr,
      get pid() {
        return pid;
      },
      exited,
      kill: () => {
        try {
          if (pid) process.kill(-pid, 'SIGKILL');
        } catch {
          // the group is gone
        }
        stream.destroy();
      },
    };
  }

  spawnPty(request: PtyRequest): PtyProcess {
    const dataListeners: Array<(data: string) => void> = [];
    const exitListeners: Array<(exit: { exitCode: number; signal: number | null; reason?: string }) => void> = [];
    let stream: Duplex | undefined;
    let exec: Docker.Exec | undefined;
    const pending: string[] = [];
    let ended = false;
    const end = async () => {
      if (ended) return;
      ended = true;
      const code = (await exec?.inspect().catch(() => undefined))?.ExitCode ?? 0;
      // The shell ended with its container: say so, not only its exit code.
      const gone = await this.whyGone('under the terminal');
      for (const listener of exitListeners) listener({ exitCode: code, signal: null, ...(gone ? { reason: gone.message } : {}) });
    };
    void (async () => {
      ({ exec, stream } = await this.attach(
        {
          Cmd: [request.shell],
          WorkingDir: this.containerPath(request.cwd),
          Env: ['TERM=xterm-256color'],
          AttachStdin: true,
          AttachStdout: true,
          AttachStderr: true,
          Tty: true,
        },
        { hijack: true, stdin: true, Tty: true },
      ));
      await exec.resize({ h: request.rows, w: request.cols }).catch(() => undefined);
      stream.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        for (const listener of dataListeners) listener(text);
      });
      stream.on('end', () => void end());
      stream.on('close', () => void end());
      for (const data of pending.splice(0)) stream.write(data);
    })().catch(() => void end());

    return {
      onData: (listener) => void dataListeners.push(listener),
      onExit: (listener) => void exitListeners.push(listener),
      write: (data) => (stream ? void stream.write(data) : void pending.push(data)),
      resize: (cols, rows) => void exec?.resize({ h: rows, w: cols }).catch(() => undefined),
      kill: () => {
        void exec
          ?.inspect()
          .then((info) => {
            if (info.Pid) process.kill(-info.Pid, 'SIGKILL');
          })
          // The exec or its group is gone already: nothing left to kill.
          .catch(() => undefined);
        stream?.destroy();
      },
    };
  }
}
