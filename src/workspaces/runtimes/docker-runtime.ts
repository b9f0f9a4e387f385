import { PassThrough, type Duplex } from 'node:stream';
import { posix, relative } from 'node:path';
import type Docker from 'dockerode';
import { WORKSPACE_MOUNT } from '../workspace.js';
import { CommandWatch } from './command-watch.js';
import { capturedOutput, OutputCapture } from './output-capture.js';
import type { ExecRequest, ExecResult, PtyProcess, PtyRequest, Runtime, StdioProcess, StdioRequest } from './runtime.js';


/**
 * Commands and terminals inside one workspace container, through `docker exec`. The engine
 * starts every exec'd process as a session and process-group leader, and reports its pid on
 * this host: a timeout or a cancellation kills that whole group, background children
 * included; the container's own caps (pids, memory, CPU) bound everything it starts.
 */
export class DockerRuntime implements Runtime {
  readonly kind = 'docker' as const;

  constructor(
    private readonly docker: Docker,
    private readonly containerId: string,
    private readonly hostRoot: string,
  ) {}

  /** Host path inside the workspace → the same place inside the container. */
  private containerPath(hostPath: string): string {
    const inside = relative(this.hostRoot, hostPath).split('/').filter(Boolean);
    return posix.join(WORKSPACE_MOUNT, ...inside);
  }

  async exec(request: ExecRequest): Promise<ExecResult> {
    const started = performance.now();
    const command = typeof request.command === 'string' ? ['/bin/sh', '-c', request.command] : request.command;
    const container = this.docker.getContainer(this.containerId);
    const exec = await container.exec({
      Cmd: command,
      WorkingDir: this.containerPath(request.cwd),
      Env: Object.entries(request.env).map(([name, value]) => `${name}=${value}`),
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = (await exec.start({ hijack: true, stdin: false })) as Duplex;
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
    const info = await exec.inspect();
    const exitCode = info.ExitCode ?? null;
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
    const exec = await this.docker.getContainer(this.containerId).exec({
      Cmd: request.command,
      WorkingDir: this.containerPath(request.cwd),
      Env: Object.entries(request.env).map(([name, value]) => `${name}=${value}`),
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    const stream = (await exec.start({ hijack: true, stdin: true })) as Duplex;
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
    const exitListeners: Array<(exit: { exitCode: number; signal: number | null }) => void> = [];
    let stream: Duplex | undefined;
    let exec: Docker.Exec | undefined;
    const pending: string[] = [];
    let ended = false;
    const end = async () => {
      if (ended) return;
      ended = true;
      const code = (await exec?.inspect().catch(() => undefined))?.ExitCode ?? 0;
      for (const listener of exitListeners) listener({ exitCode: code, signal: null });
    };
    void (async () => {
      exec = await this.docker.getContainer(this.containerId).exec({
        Cmd: [request.shell],
        WorkingDir: this.containerPath(request.cwd),
        Env: ['TERM=xterm-256color'],
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: true,
      });
      stream = (await exec.start({ hijack: true, stdin: true, Tty: true })) as Duplex;
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
