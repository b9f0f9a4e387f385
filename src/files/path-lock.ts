/**
 * Serializes read-modify-write sequences per path (or any other key). Node runs one thing at
 * a time, but an edit awaits between reading and renaming, and two edits interleaving there
 * would lose one of them silently.
 */
export class PathLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(path: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(path) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => current);
    this.tails.set(path, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.tails.get(path) === tail) this.tails.delete(path);
    }
  }

  /** Holds several paths at once, always in sorted order so two callers cannot deadlock. */
  async runAll<T>(paths: string[], work: () => Promise<T>): Promise<T> {
    const [first, ...rest] = [...new Set(paths)].sort();
    if (first === undefined) return work();
    return this.run(first, () => this.runAll(rest, work));
  }
}
