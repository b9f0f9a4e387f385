import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readlinkSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { CodeBuddyError } from '../../core/errors.js';
import { outermostPaths } from '../../core/outermost-paths.js';
import { WORKSPACE_MOUNT } from '../workspace.js';


/**
 * A fixed, world-traversable directory the workspace is bind-mounted on (in a private mount
 * namespace, as root) before privileges are dropped: the unprivileged side can then reach the
 * workspace even when the real path runs through directories only root may enter.
 */
const SANDBOX_RUN = '/run/codebuddy-sandbox';
const STAGING = `${SANDBOX_RUN}/workspace`;
/** What a masked file is replaced by: empty, read-only, root's. Beside the staging point, not under it. */
const EMPTY_FILE = `${SANDBOX_RUN}/empty`;
/** Staging points for exposed paths (`exposed/<n>`), reached the same way as the workspace's. */
const EXPOSED_STAGING = `${SANDBOX_RUN}/exposed`;

/** Top-level entries of the host that a sandbox never sees; some get a fresh mount instead. */
const NOT_BOUND = new Set(['proc', 'dev', 'tmp', 'run', 'home', 'root', 'mnt', 'media', 'lost+found', 'boot', 'workspace']);

/**
 * Whether a host path is visible inside a sandbox: under a top-level directory the sandbox
 * binds, and not under a hidden path. A program (a language server's script) anywhere else
 * would not be found there.
 */
export function sandboxSees(path: string, hidden: readonly string[]): boolean {
  const top = path.split('/')[1] ?? '';
  if (NOT_BOUND.has(top)) return false;
  return !hidden.flatMap(realPath).some((covered) => path === covered || path.startsWith(`${covered}/`));
}

/** bwrap arguments that set these variables inside the sandbox, for `argsFd`. A NUL would smuggle in arguments of its own. */
export function environmentArgs(env: Record<string, string>): Buffer {
  const entries = Object.entries(env);
  if (entries.some(([name, value]) => name.includes('\0') || value.includes('\0'))) {
    throw new CodeBuddyError('E_INVALID_ARGUMENT', 'env names and values cannot contain NUL', { field: 'env' });
  }
  return Buffer.from(entries.map(([name, value]) => `--setenv\0${name}\0${value}\0`).join(''));
}

/** Who a sandboxed command runs as: never root, never the server's own user. */
export interface SandboxIdentity {
  uid: number;
  gid: number;
}

/** What one command's sandbox is made of. */
export interface SandboxScope {
  /** The workspace's host directory: the only writable place, seen at /workspace. */
  root: string;
  identity: SandboxIdentity;
  network: boolean;
  /** Host paths that must not be visible (the data directory, the config, other workspaces). */
  hidden: readonly string[];
  /** Workspace-relative paths a policy denies: replaced by an empty, read-only stand-in. */
  masked: readonly { path: string; directory: boolean }[];
  /**
   * Host paths bound read-only at their own place, after everything hidden: a program's own
   * installation (a language server in CodeBuddy's node_modules), wherever it lies.
   */
  exposed?: readonly string[];
  /** A terminal keeps its controlling tty; a one-shot command gets a new session (no TIOCSTI into ours). */
  newSession: boolean;
  /**
   * An fd the spawner writes more bwrap arguments to (NUL-separated): the caller's variables
   * as `--setenv`. They must not be in the environment of the links that run as root (an
   * LD_PRELOAD there would run as root), nor on a command line any host user can read.
   */
  argsFd?: number;
}

/** Tools the sandbox is made with, found once. */
interface Tools {
  unshare: string;
  mount: string;
  setpriv: string;
  bwrap: string;
  sh: string;
}

/**
 * Commands on the local runtime under bubblewrap. The chain, each link `exec`ing the next so
 * the command keeps the pid the server spawned:
 *
 *   unshare --mount (root)          a private mount namespace for this command alone
 *   sh: join cgroups, mount --bind  the cgroup is joined while still root (the sandbox
 *                                   user can never write cgroup files); the workspace is
 *                                   staged where the unprivileged side can reach it
 *   setpriv --reuid --clear-groups  drop to the workspace's uid: bwrap's user namespace
 *                                   alone would only *look* unprivileged when run as root
 *   bwrap                           new user, pid, ipc, uts, cgroup (and network) namespaces;
 *                                   the host read-only, /workspace the only writable place,
 *                                   fresh /proc, /dev, /tmp; the data directory, the config,
 *                                   other workspaces and /home, /root absent; denied paths
 *                                   masked
 *
 * Needs root (to change uid and mount) and unprivileged user namespaces; `detect` says why
 * when a sandbox cannot be made here.
 */
export class BubblewrapSandbox {
  private constructor(
    private readonly tools: Tools,
    /** `--ro-bind`/`--symlink` for each top-level host entry a command may see. */
    private readonly hostView: readonly string[],
  ) {}

  static detect(): { sandbox: BubblewrapSandbox } | { unavailable: string } {
    if (process.getuid?.() !== 0) {
      return { unavailable: 'the server does not run as root, so it cannot run commands as another user' };
    }
    const tools: Partial<Tools> = {};
    for (const name of ['unshare', 'mount', 'setpriv', 'bwrap', 'sh'] as const) {
      const found = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'].map((dir) => join(dir, name)).find(isExecutable);
      if (!found) return { unavailable: `${name} is not installed${name === 'bwrap' ? ' (apt-get install bubblewrap)' : ''}` };
      tools[name] = found;
    }
    try {
      mkdirSync(STAGING, { recursive: true, mode: 0o755 });
      writeFileSync(EMPTY_FILE, '', { mode: 0o444 });
    } catch (error) {
      return { unavailable: `cannot prepare ${STAGING}: ${(error as Error).message}` };
    }
    const sandbox = new BubblewrapSandbox(tools as Tools, hostView());
    // Prove it end to end: as nobody, in namespaces, with the host read-only.
    const probe = sandbox.command(
      { root: STAGING, identity: { uid: 65534, gid: 65534 }, network: false, hidden: [], masked: [], newSession: true },
      [],
      WORKSPACE_MOUNT,
      ['/bin/sh', '-c', 'test "$(id -u)" = 65534 && ! touch /usr/.codebuddy-probe 2>/dev/null'],
    );
    const result = spawnSync(probe[0], probe[1], { encoding: 'utf8', timeout: 10_000 });
    if (result.status !== 0) return { unavailable: `bubblewrap failed its probe: ${(result.stderr || result.error?.message || `exit ${result.status}`).trim().slice(0, 300)}` };
    return { sandbox };
  }

  /**
   * The argv that runs `program` (absolute argv, or a name found on PATH) sandboxed, with
   * `cwd` inside the sandbox. `cgroupProcs` are the cgroup.procs files to join first.
   */
  command(scope: SandboxScope, cgroupProcs: readonly string[], cwd: string, program: readonly string[]): [string, string[]] {
    const { tools } = this;
    const { uid, gid } = scope.identity;
    const exposed = (scope.exposed ?? []).flatMap(realPath).map((source, index) => ({ source, point: stagingPointFor(source, index) }));
    const bwrap = [
      tools.bwrap,
      '--die-with-parent',
      '--unshare-user',
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      '--unshare-cgroup-try',
      ...(scope.network ? [] : ['--unshare-net']),
      ...(scope.newSession ? ['--new-session'] : []),
      ...(scope.argsFd !== undefined ? ['--args', String(scope.argsFd)] : []),
      ...this.hostView,
      '--proc', '/proc',
      '--dev', '/dev',
      '--tmpfs', '/tmp',
      '--tmpfs', '/run',
      '--dir', '/home',
      ...outermostPaths(scope.hidden.flatMap(realPath)).flatMap((path) => hide(path, scope.identity)),
      ...exposed.flatMap(({ source, point }) => ['--ro-bind', point, source]),
      '--bind', STAGING, WORKSPACE_MOUNT,
      ...scope.masked.flatMap(({ path, directory }) => {
        const inside = posix.join(WORKSPACE_MOUNT, path);
        return directory ? ['--tmpfs', inside, '--remount-ro', inside] : ['--ro-bind', EMPTY_FILE, inside];
      }),
      '--chdir', cwd,
      '--',
      // Through a shell, so that a missing program exits 127 ("not found") as it would anywhere.
      tools.sh, '-c', 'exec "$@"', 'sh',
      ...program,
    ];
    // $0: cgroup.procs files (colon-separated), $1: the workspace, $2: how many exposed paths
    // follow, each as a source and its staging point (root may enter directories the sandbox
    // user may not); the rest is the command.
    const stage =
      `IFS=:; for f in $0; do echo $$ > "$f" || exit 126; done; unset IFS; ${tools.mount} --bind "$1" ${STAGING} || exit 126; ` +
      `n=$2; shift 2; while [ $n -gt 0 ]; do ${tools.mount} --bind "$1" "$2" || exit 126; shift 2; n=$((n - 1)); done; exec "$@"`;
    return [
      tools.unshare,
      ['--mount', '--propagation', 'private', '--', tools.sh, '-c', stage, cgroupProcs.join(':'), scope.root, String(exposed.length), ...exposed.flatMap(({ source, point }) => [source, point]), tools.setpriv, `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--no-new-privs', '--', ...bwrap],
    ];
  }
}

function isExecutable(path: string): boolean {
  try {
    return (statSync(path).mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** The host as a sandbox sees it: every top-level directory read-only, links as links. */
function hostView(): string[] {
  const args: string[] = [];
  for (const name of readdirSync('/').sort()) {
    if (NOT_BOUND.has(name)) continue;
    const path = `/${name}`;
    const info = lstatSync(path);
    if (info.isSymbolicLink()) args.push('--symlink', readlinkSync(path), path);
    else if (info.isDirectory()) args.push('--ro-bind', path, path);
  }
  return args;
}

/** Where a path really is (a symlinked config file or allowed root is covered where it leads); nothing when it does not exist. */
function realPath(path: string): string[] {
  try {
    return [realpathSync(path)];
  } catch {
    return [];
  }
}

/**
 * Covers a host path with an empty mount. A path the sandbox user could not reach anyway (a
 * parent it may not enter) needs no cover, and bwrap could not place one there; nor does one
 * under a top-level directory the sandbox does not see.
 */
function hide(path: string, identity: SandboxIdentity): string[] {
  const top = path.split('/')[1] ?? '';
  if (NOT_BOUND.has(top) || !reachable(dirname(path), identity)) return [];
  let info;
  try {
    info = lstatSync(path);
  } catch {
    return [];
  }
  if (info.isDirectory()) return ['--tmpfs', path, '--remount-ro', path];
  if (info.isFile()) return ['--ro-bind', EMPTY_FILE, path];
  return [];
}

/** The n-th staging point for an exposed path, of its kind (a directory or a file can only be bound on its own kind). */
function stagingPointFor(source: string, index: number): string {
  const directory = statSync(source).isDirectory();
  const point = `${EXPOSED_STAGING}/${directory ? 'dir' : 'file'}-${index}`;
  mkdirSync(EXPOSED_STAGING, { recursive: true, mode: 0o755 });
  if (directory) mkdirSync(point, { recursive: true, mode: 0o755 });
  else writeFileSync(point, '', { mode: 0o444, flag: 'a' });
  return point;
}

/** Whether `identity` may walk down to `directory` (search permission on every step). */
function reachable(directory: string, identity: SandboxIdentity): boolean {
  let path = '';
  for (const part of ['', ...directory.split('/').filter(Boolean)]) {
    path = part === '' ? '/' : join(path, part);
    let info;
    try {
      info = statSync(path);
    } catch {
      return false;
    }
    const bit = info.uid === identity.uid ? 0o100 : info.gid === identity.gid ? 0o010 : 0o001;
    if ((info.mode & bit) === 0) return false;
  }
  return true;
}
