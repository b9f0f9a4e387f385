/**
 * Change detection for watched files of a remote workspace, by polling. The REST face answers
 * calls and pushes nothing: there is no change stream to subscribe to, so the extension asks
 * `file_stat` for each watched path every few seconds and compares. A directory's stat changes
 * when entries are added or removed in it, so watching a folder sees its children come and go.
 * Pure (no `vscode` import): the stat function and the timer are given.
 */
export type Change = { key: string; type: 'created' | 'changed' | 'deleted' };

/** What a stat says about change; `undefined` for a path that does not exist. */
export type Signature = string | undefined;

export interface PollerOptions {
  /** The current signature of a watched key; throws for a failure that says nothing (network). */
  signature: (key: string) => Promise<Signature>;
  onChanges: (changes: Change[]) => void;
  intervalMs: number;
  /** Beyond this many watched keys, more watches are refused (each costs one request per poll). */
  maxWatched?: number;
}

export class StatPoller {
  /** Watched keys: how many watchers each has, and the signature last seen (null: not known yet). */
  private readonly watched = new Map<string, { watchers: number; last: Signature | null }>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(private readonly options: PollerOptions) {}

  /** Watches a key until the returned function is called; true if it is watched. */
  watch(key: string): { watching: boolean; stop: () => void } {
    const entry = this.watched.get(key);
    if (entry) entry.watchers++;
    else if (this.watched.size >= (this.options.maxWatched ?? 500)) return { watching: false, stop: () => undefined };
    else this.watched.set(key, { watchers: 1, last: null });
    this.schedule();
    let stopped = false;
    return {
      watching: true,
      stop: () => {
        if (stopped) return;
        stopped = true;
        const current = this.watched.get(key);
        if (current && --current.watchers === 0) this.watched.delete(key);
      },
    };
  }

  get size(): number {
    return this.watched.size;
  }

  /** One round: every watched key's signature compared with the last; the first sighting only records it. */
  async poll(): Promise<Change[]> {
    const changes: Change[] = [];
    // One at a time: a poll is background work and must not flood the server.
    for (const [key, entry] of [...this.watched]) {
      let now: Signature;
      try {
        now = await this.options.signature(key);
      } catch {
        continue; // unreachable for now: nothing is known to have changed
      }
      const last = entry.last;
      entry.last = now;
      if (last === null || last === now) continue;
      changes.push({ key, type: last === undefined ? 'created' : now === undefined ? 'deleted' : 'changed' });
    }
    if (changes.length > 0 && !this.disposed) this.options.onChanges(changes);
    return changes;
  }

  dispose(): void {
    this.disposed = true;
    this.watched.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The next round starts only after this one ends (no overlapping polls), and only while something is watched. */
  private schedule(): void {
    if (this.timer || this.disposed) return;
    this.timer = setTimeout(() => {
      void this.poll().finally(() => {
        this.timer = undefined;
        if (this.watched.size > 0) this.schedule();
      });
    }, this.options.intervalMs);
  }
}
