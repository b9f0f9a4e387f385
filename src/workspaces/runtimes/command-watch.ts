import type { ExecRequest } from './runtime.js';

const KILL_GRACE_MS = 1_000;
const PROGRESS_EVERY_MS = 1_000;

/**
 * The clock around one running command, whatever runs it: when its time is up or its call
 * is cancelled, `kill` gets SIGTERM and, a grace later, SIGKILL; meanwhile the caller hears
 * progress with the command's latest line.
 */
export class CommandWatch {
  timedOut = false;
  cancelled = false;
  private readonly timer: NodeJS.Timeout;
  private readonly progress: NodeJS.Timeout | undefined;
  private readonly onAbort: () => void;

  constructor(
    private readonly request: ExecRequest,
    kill: (signal: NodeJS.Signals) => void,
    latestLine: () => string,
  ) {
    const started = performance.now();
    const stop = () => {
      kill('SIGTERM');
      setTimeout(() => kill('SIGKILL'), KILL_GRACE_MS).unref();
    };
    this.timer = setTimeout(() => {
      this.timedOut = true;
      stop();
    }, request.timeoutMs);
    this.onAbort = () => {
      this.cancelled = true;
      stop();
    };
    request.signal.addEventListener('abort', this.onAbort, { once: true });
    this.progress = request.onProgress ? setInterval(() => request.onProgress!(performance.now() - started, latestLine()), PROGRESS_EVERY_MS) : undefined;
  }

  /** The command ended: no more kills or progress. */
  dispose(): void {
    clearTimeout(this.timer);
    if (this.progress) clearInterval(this.progress);
    this.request.signal.removeEventListener('abort', this.onAbort);
  }
}
