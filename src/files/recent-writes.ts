/** One write the file service made (or is making) for an action: what it leaves on disk, by hash. */
interface Written {
  sha256: string;
  actionId: string;
}

/**
 * Who wrote a file's current content, when the file service did: per workspace and path, the
 * sha256 and action id of its last few writes, in-flight ones included (recorded before the
 * rename that makes them visible, forgotten if it fails).
 *
 * Why by content: a write announces itself (`files.changed`, origin `operation`, with its
 * action id) once its rename is done, and the workspace's watcher sees the same change and
 * announces it without an action id; the two events may arrive in either order. A reader
 * that finds a file's content to be exactly what an operation wrote names that action,
 * whichever event made it look. A content not written by the file service (a command, an
 * editor) has no entry and stays anonymous.
 *
 * Bounded: `perPath` writes per path, `maxPaths` paths (the least recently written go first).
 */
export class RecentWrites {
  /** `workspaceId \0 path` → its writes, oldest first; Map order is recency of writing. */
  private readonly byPath = new Map<string, Written[]>();

  constructor(
    private readonly maxPaths = 4096,
    private readonly perPath = 4,
  ) {}

  /** A write about to land: recorded now, so it is known before anyone can see it. Returns how to forget it (the write failed). */
  begin(workspaceId: string, path: string, sha256: string, actionId: string): () => void {
    const key = `${workspaceId}\0${path}`;
    const writes = this.byPath.get(key) ?? [];
    this.byPath.delete(key);
    const entry: Written = { sha256, actionId };
    writes.push(entry);
    if (writes.length > this.perPath) writes.shift();
    this.byPath.set(key, writes);
    if (this.byPath.size > this.maxPaths) this.byPath.delete(this.byPath.keys().next().value!);
    return () => {
      const now = this.byPath.get(key);
      const index = now?.indexOf(entry) ?? -1;
      if (index < 0) return;
      now!.splice(index, 1);
      if (now!.length === 0) this.byPath.delete(key);
    };
  }

  /** The action whose write left exactly this content at the path (the newest such), if the file service made it lately. */
  actionOf(workspaceId: string, path: string, sha256: string): string | undefined {
    const writes = this.byPath.get(`${workspaceId}\0${path}`);
    if (!writes) return undefined;
    for (let i = writes.length - 1; i >= 0; i--) if (writes[i]!.sha256 === sha256) return writes[i]!.actionId;
    return undefined;
  }

  /** A deleted workspace's entries go with it. */
  forgetWorkspace(workspaceId: string): void {
    const prefix = `${workspaceId}\0`;
    for (const key of [...this.byPath.keys()]) if (key.startsWith(prefix)) this.byPath.delete(key);
  }
}
