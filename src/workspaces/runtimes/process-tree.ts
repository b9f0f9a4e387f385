import { readdirSync, readFileSync } from 'node:fs';

const PAGE_BYTES = 4096;

/** The parent pid in a /proc/<pid>/stat line (the command name, field 2, may hold spaces and parentheses). */
function parentOf(stat: string): number {
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/**
 * Resident memory of a process and all its descendants, from /proc on this host: the pid a
 * runtime reports (a sandbox's outermost process, or a `docker exec`'s host pid) heads a tree
 * whose real work is done further down (a language server and the workers it starts).
 * Undefined when the process is gone.
 */
export function treeResidentBytes(pid: number): number | undefined {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const parent = parentOf(readFileSync(`/proc/${name}/stat`, 'utf8'));
      const list = children.get(parent);
      if (list) list.push(Number(name));
      else children.set(parent, [Number(name)]);
    } catch {
      // exited meanwhile
    }
  }
  let total = 0;
  let found = false;
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.pop()!;
    try {
      total += Number(readFileSync(`/proc/${current}/statm`, 'utf8').split(' ')[1]) * PAGE_BYTES;
      found = true;
    } catch {
      // exited meanwhile
    }
    queue.push(...(children.get(current) ?? []));
  }
  return found ? total : undefined;
}
