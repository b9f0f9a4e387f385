import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * An attacker in a workspace: a Python script that swaps pairs of entries (a real
 * directory and a symlink) with renameat2(RENAME_EXCHANGE) in a tight loop, each swap
 * atomic, until its stdin closes, then leaves every pair as it found it. Python's ctypes
 * reaches the syscall without a compiler, on the host or in a workspace container.
 */
const SCRIPT = String.raw`
import ctypes, os, sys, threading
libc = ctypes.CDLL(None, use_errno=True)
NR = {'x86_64': 316, 'aarch64': 276}[os.uname().machine]
AT_FDCWD, RENAME_EXCHANGE = -100, 2
os.chdir(sys.argv[1])
pairs = [(a.encode(), b.encode()) for a, b in (p.split(':') for p in sys.argv[2:])]
counts = [0] * len(pairs)
running = True
def stop_at_eof():
    global running
    sys.stdin.read()
    running = False
threading.Thread(target=stop_at_eof, daemon=True).start()
def swap(i):
    a, b = pairs[i]
    if libc.syscall(ctypes.c_long(NR), ctypes.c_int(AT_FDCWD), ctypes.c_char_p(a), ctypes.c_int(AT_FDCWD), ctypes.c_char_p(b), ctypes.c_uint(RENAME_EXCHANGE)) != 0:
        raise OSError(ctypes.get_errno(), 'renameat2')
    counts[i] += 1
print('ready', flush=True)
while running:
    for i in range(len(pairs)):
        swap(i)
for i in range(len(pairs)):
    if counts[i] % 2:
        swap(i)
print(' '.join(str(c) for c in counts), flush=True)
`;

export const EXCHANGE_SCRIPT_NAME = '.rename-exchange.py';

/** Writes the script into `dir` (so a container sees it through its bind mount too). */
export function placeExchangeScript(dir: string): void {
  writeFileSync(join(dir, EXCHANGE_SCRIPT_NAME), SCRIPT);
}

export interface Swapper {
  /** Stops the loop; answers the number of swaps per pair (the pairs are back as they were). */
  stop(): Promise<number[]>;
}

/**
 * Runs the swapper with `command` (e.g. ['python3'] on the host, or ['docker', 'exec',
 * '-i', id, 'python3'] in a container) in `workdir`, exchanging each `a:b` pair; resolves
 * once it is swapping. Closing its stdin stops it (docker exec -i passes that on).
 */
export async function startSwapper(command: string[], scriptPath: string, workdir: string, pairs: string[]): Promise<Swapper> {
  const child: ChildProcess = spawn(command[0]!, [...command.slice(1), scriptPath, workdir, ...pairs], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    const poll = setInterval(() => {
      if (out.includes('ready')) {
        clearInterval(poll);
        resolve();
      }
    }, 20);
    void exited.then(() => {
      clearInterval(poll);
      reject(new Error(`swapper exited early: ${out} ${err}`));
    });
  });
  return {
    async stop() {
      child.stdin!.end();
      const code = await exited;
      if (code !== 0) throw new Error(`swapper failed (${code}): ${err}`);
      return out.trim().split('\n').at(-1)!.split(' ').map(Number);
    },
  };
}
