import type { Logger } from '../core/logger.js';
import type { ContainerEvent, DockerEngine } from './runtimes/docker-engine.js';

/** Waits between attempts to follow the engine again after its event stream ended: short, as statuses are stale meanwhile. */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 2_000;

/**
 * Keeps following the Docker engine's events of CodeBuddy's containers, so that a container
 * that dies, stops or vanishes behind the server's back is noticed within moments. Nothing
 * runs while nothing happens: one idle connection to the engine. When the stream ends (the
 * engine restarted or went away), it follows again with a short backoff and, once it does,
 * asks its owner to check every container, as events in the gap are lost.
 */
export class ContainerWatch {
  private unfollow: (() => void) | undefined;
  private starting: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private retryMs = RETRY_FIRST_MS;
  private closed = false;
  /** Times the stream was followed again after it ended (for logs and tests). */
  resubscriptions = 0;

  constructor(
    private readonly engine: DockerEngine,
    private readonly handlers: {
      /** A container of this server may have changed state. */
      changed(event: ContainerEvent): void;
      /** Following again after a gap: every container must be checked. */
      resumed(): Promise<void>;
    },
    private readonly logger?: Logger,
  ) {}

  /** Resolves once the engine streams events (or could not be reached: it keeps trying). */
  start(): Promise<void> {
    if (this.closed || this.unfollow || this.retry) return Promise.resolve();
    this.starting ??= this.follow(false).finally(() => (this.starting = undefined));
    return this.starting;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.retry = undefined;
    this.unfollow?.();
    this.unfollow = undefined;
  }

  private async follow(afterGap: boolean): Promise<void> {
    try {
      const unfollow = await this.engine.follow(
        (event) => this.handlers.changed(event),
        (error) => {
          this.unfollow = undefined;
          this.logger?.warn({ err: error }, 'the Docker engine event stream ended; following it again');
          this.again(true);
        },
      );
      if (this.closed) return unfollow();
      this.unfollow = unfollow;
      if (afterGap) this.resubscriptions++;
      if (this.retryMs > RETRY_FIRST_MS || afterGap) this.logger?.info('following the Docker engine events again');
      this.retryMs = RETRY_FIRST_MS;
    } catch (error) {
      if (this.retryMs === RETRY_FIRST_MS) this.logger?.warn({ err: error }, 'cannot follow the Docker engine events; retrying until it answers');
      this.again(true);
      return;
    }
    if (afterGap) await this.handlers.resumed().catch((error: unknown) => this.logger?.warn({ err: error }, 'checking the containers after the event stream resumed failed'));
  }

  private again(afterGap: boolean): void {
    if (this.closed) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.follow(afterGap);
    }, this.retryMs);
    this.retry.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }
}
