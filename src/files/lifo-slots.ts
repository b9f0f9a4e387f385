/**
 * A bounded number of slots, handed to the most recent waiter first. A tree walk that
 * takes a slot per directory and queues each directory's subdirectories this way goes
 * depth first, so the directory handles it holds open (each waits for its children)
 * stay about slots × depth, however wide the tree.
 */
export class LifoSlots {
  private readonly waiting: (() => void)[] = [];

  constructor(private free: number) {}

  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.pop();
    if (next) next();
    else this.free++;
  }
}
