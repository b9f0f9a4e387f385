/**
 * A terminal's raw output, bounded: the newest `limit` characters, addressed by absolute
 * offsets so a reader's cursor stays valid while old output is dropped.
 */
export class Scrollback {
  private buffer = '';
  /** Absolute offset of buffer[0]. */
  private start = 0;

  constructor(private readonly limit: number) {}

  append(data: string): void {
    this.buffer += data;
    if (this.buffer.length > this.limit) {
      const drop = this.buffer.length - this.limit;
      this.buffer = this.buffer.slice(drop);
      this.start += drop;
    }
  }

  /** Absolute offset just past the newest output: the cursor to read from next. */
  get end(): number {
    return this.start + this.buffer.length;
  }

  /** Output from `since` (clamped to what is kept), and how much before it was already dropped. */
  since(offset: number): { text: string; from: number; dropped: number } {
    const from = Math.max(offset, this.start);
    return { text: this.buffer.slice(from - this.start), from, dropped: from - offset };
  }
}
