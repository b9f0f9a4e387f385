import { readdirSync, readFileSync } from 'node:fs';

/** How many processes on this machine have `marker` in their command line (read from /proc). */
export function processesWith(marker: string): number {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(marker);
      } catch {
        return false; // exited meanwhile
      }
    }).length;
}
