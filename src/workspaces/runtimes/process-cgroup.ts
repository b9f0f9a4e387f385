import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ProcessLimits {
  pids: number;
  memoryBytes: number;
}

type Layout = { kind: 'v2'; root: string } | { kind: 'v1'; pids: string; memory: string };

function detectLayout(): Layout | undefined {
  const base = '/sys/fs/cgroup';
  try {
    if (existsSync(join(base, 'cgroup.controllers'))) {
      const root = join(base, 'codebuddy');
      mkdirSync(root, { recursive: true });
      // Children of `codebuddy` may only use the controllers enabled on it.
      writeFileSync(join(root, 'cgroup.subtree_control'), '+pids +memory');
      return { kind: 'v2', root };
    }
    const pids = join(base, 'pids', 'codebuddy');
    const memory = join(base, 'memory', 'codebuddy');
    mkdirSync(pids, { recursive: true });
    mkdirSync(memory, { recursive: true });
    return { kind: 'v1', pids, memory };
  } catch {
    return undefined;
  }
}

let layout: Layout | null | undefined;

/**
 * A control group for one command's process tree, where the host lets us make one: caps on
 * process count (a fork bomb stops at the cap) and memory (a hog is killed by the kernel),
 * and a complete list of the tree's processes to kill, even those that left the process
 * group. Where cgroups are not writable, commands still run, bounded by time and output.
 */
export class ProcessCgroup {
  private constructor(private readonly directories: string[]) {}

  static create(name: string, limits: ProcessLimits): ProcessCgroup | undefined {
    if (layout === undefined) layout = detectLayout() ?? null;
    if (layout === null) return undefined;
    try {
      if (layout.kind === 'v2') {
        const dir = join(layout.root, name);
        mkdirSync(dir);
        writeFileSync(join(dir, 'pids.max'), String(limits.pids));
        writeFileSync(join(dir, 'memory.max'), String(limits.memoryBytes));
        writeFileSync(join(dir, 'memory.swap.max'), '0');
        return new ProcessCgroup([dir]);
      }
      const pids = join(layout.pids, name);
      const memory = join(layout.memory, name);
      mkdirSync(pids);
      mkdirSync(memory);
      writeFileSync(join(pids, 'pids.max'), String(limits.pids));
      writeFileSync(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      return new ProcessCgroup([pids, memory]);
    } catch {
      return undefined;
    }
  }

  /** The files a process writes its pid to, to join: the wrapper does it before `exec`. */
  get procsFiles(): string[] {
    return this.directories.map((dir) => join(dir, 'cgroup.procs'));
  }

  /** Whether the memory limit killed something (v2 `oom_kill`, v1 `oom_control`). */
  get memoryKilled(): boolean {
    for (const dir of this.directories) {
      for (const [file, pattern] of [['memory.events', /^oom_kill (\d+)/m], ['memory.oom_control', /^oom_kill (\d+)/m]] as const) {
        try {
          const count = Number(pattern.exec(readFileSync(join(dir, file), 'utf8'))?.[1] ?? 0);
          if (count > 0) return true;
        } catch {
          // not this layout's file
        }
      }
    }
    return false;
  }

  /** Whether the process cap refused a fork. */
  get pidsExhausted(): boolean {
    for (const dir of this.directories) {
      try {
        if (Number(/^max (\d+)/m.exec(readFileSync(join(dir, 'pids.events'), 'utf8'))?.[1] ?? 0) > 0) return true;
      } catch {
        // not this layout's file
      }
    }
    return false;
  }

  pids(): number[] {
    const pids = new Set<number>();
    for (const file of this.procsFiles) {
      try {
        for (const line of readFileSync(file, 'utf8').split('\n')) if (line) pids.add(Number(line));
      } catch {
        // gone already
      }
    }
    return [...pids];
  }

  /** Kills every process in the group, repeatedly, until none is left (a fork bomb keeps forking). */
  killAll(): void {
    for (let round = 0; round < 50; round++) {
      const pids = this.pids();
      if (pids.length === 0) return;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // exited meanwhile
        }
      }
    }
  }

  remove(): void {
    for (const dir of this.directories) {
      try {
        rmdirSync(dir);
      } catch {
        // a zombie still counted: the kernel frees the group once it is reaped
      }
    }
  }
}
