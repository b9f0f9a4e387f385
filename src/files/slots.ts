/**
 * A bounded number of slots, handed to waiters in the order asked for.
 *
 * `lifo`, the most recent waiter first: a tree walk that takes a slot per directory and
 * queues each directory's subdirectories this way goes depth first, so the directory handles
 * it holds open (each waits for its children) stay about slots × depth, however wide the tree.
 *
 * `fifo`, the longest waiting first: work that must not starve (a document's write-back).
 */
export class Slots {
  private readonly waiting: (() => void)[] = [];

  constructor(
    private free: number,
    private readonly order: 'lifo' | 'fifo',
  ) {}

  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.order === 'lifo' ? this.waiting.pop() : this.waiting.shift();
    if (next) next();
    else this.free++;
  }

  /** Runs `work` holding a slot. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await work();
    } finally {
      this.release();
    }
  }
}
