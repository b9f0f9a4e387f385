import { stripVTControlCharacters } from 'node:util';

/**
 * Keeps the head and the tail of a stream, within `limit` bytes in all, and counts what
 * it drops: a command's first lines say what it did, its last ones how it ended.
 */
export class OutputCapture {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private total = 0;
  private lastLine = '';

  constructor(private readonly limit: number) {}

  push(incoming: Buffer): void {
    this.total += incoming.length;
    let chunk = incoming;
    const headRoom = Math.floor(this.limit / 2) - this.headBytes;
    if (headRoom > 0) {
      const taken = chunk.subarray(0, headRoom);
      this.head.push(taken);
      this.headBytes += taken.length;
      chunk = chunk.subarray(taken.length);
    }
    if (chunk.length > 0) {
      this.tail.push(chunk);
      this.tailBytes += chunk.length;
      const tailLimit = this.limit - Math.floor(this.limit / 2);
      while (this.tailBytes - (this.tail[0]?.length ?? 0) >= tailLimit && this.tail.length > 1) this.tailBytes -= this.tail.shift()!.length;
      if (this.tailBytes > tailLimit) {
        const [first, ...rest] = this.tail;
        const cut = first!.subarray(this.tailBytes - tailLimit);
        this.tail = [cut, ...rest];
        this.tailBytes = tailLimit;
      }
    }
    const lines = incoming.toString('utf8').split('\n').filter((line) => line.trim() !== '');
    if (lines.length > 0) this.lastLine = stripVTControlCharacters(lines[lines.length - 1]!).slice(0, 200);
  }

  get bytes(): number {
    return this.total;
  }

  get truncated(): boolean {
    return this.total > this.headBytes + this.tailBytes;
  }

  /** The latest non-empty line, for progress messages. */
  get latestLine(): string {
    return this.lastLine;
  }

  /** Head, an explicit marker for what was dropped, tail; terminal escape sequences removed. */
  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    const tail = Buffer.concat(this.tail).toString('utf8');
    const dropped = this.total - this.headBytes - this.tailBytes;
    const joined = dropped > 0 ? `${head}\n…[${dropped} bytes of output elided]…\n${tail}` : head + tail;
    return stripVTControlCharacters(joined);
  }
}

/** A command's two streams, as an exec result reports them. */
export function capturedOutput(stdout: OutputCapture, stderr: OutputCapture) {
  return {
    stdout: stdout.text(),
    stderr: stderr.text(),
    stdoutBytes: stdout.bytes,
    stderrBytes: stderr.bytes,
    truncated: stdout.truncated || stderr.truncated,
  };
}
