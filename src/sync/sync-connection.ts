import type { Principal } from '../auth/principal.js';

/** The transport under a sync connection (a WebSocket in the HTTP face). */
export interface PeerSocket {
  send(data: Uint8Array): void;
  close(code: number, reason: string): void;
  /** Stops reading from the peer (flow control), and starts again. */
  pause(): void;
  resume(): void;
}

export interface FlowLimits {
  /** Messages a connection may send per second, on average, and in one burst. */
  messagesPerSecond: number;
  /** Bytes a connection may send per second, on average; one burst may be this many too. */
  bytesPerSecond: number;
}

/**
 * One client of one room: who it is, whether it may write, the awareness client ids it
 * controls (removed when it leaves), and its budget. A client over its budget is not cut
 * off and loses nothing: its socket is paused until the budget refills, so a flood waits
 * in that client's own TCP window instead of taking the event loop from everybody else.
 */
export class SyncConnection {
  readonly awarenessIds = new Set<number>();
  private messages: number;
  private bytes: number;
  private refilledAt = performance.now();
  private resumeTimer: NodeJS.Timeout | undefined;
  private lastDenialAt = -Infinity;
  closed = false;

  constructor(
    readonly socket: PeerSocket,
    readonly principal: Principal,
    /** Why this connection may not change the document, when it may not. */
    readonly readOnly: string | undefined,
    private readonly limits: FlowLimits,
  ) {
    this.messages = limits.messagesPerSecond;
    this.bytes = limits.bytesPerSecond;
  }

  get author(): string {
    return `${this.principal.tenantId}/${this.principal.userId}`;
  }

  send(data: Uint8Array): void {
    if (!this.closed) this.socket.send(data);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.resumeTimer) {
      clearTimeout(this.resumeTimer);
      this.resumeTimer = undefined;
      // A paused socket would never read the peer's answer to the close: it must flow again.
      this.socket.resume();
    }
    // A close reason is at most 123 bytes.
    this.socket.close(code, Buffer.from(reason).subarray(0, 123).toString());
  }

  /** Charges one received message; pauses the socket when the budget is spent. */
  charge(size: number): void {
    const now = performance.now();
    const elapsed = (now - this.refilledAt) / 1000;
    this.refilledAt = now;
    this.messages = Math.min(this.limits.messagesPerSecond, this.messages + elapsed * this.limits.messagesPerSecond) - 1;
    this.bytes = Math.min(this.limits.bytesPerSecond, this.bytes + elapsed * this.limits.bytesPerSecond) - size;
    if ((this.messages >= 0 && this.bytes >= 0) || this.resumeTimer || this.closed) return;
    const waitMs = Math.max(-this.messages / this.limits.messagesPerSecond, -this.bytes / this.limits.bytesPerSecond) * 1000;
    this.socket.pause();
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = undefined;
      if (!this.closed) this.socket.resume();
    }, Math.ceil(waitMs));
  }

  /** Whether to tell this client (again) that its change was refused: at most once a second. */
  shouldTellDenial(): boolean {
    const now = performance.now();
    if (now - this.lastDenialAt < 1000) return false;
    this.lastDenialAt = now;
    return true;
  }
}
