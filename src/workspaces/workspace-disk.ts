import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../core/logger.js';

const run = promisify(execFile);

/**
 * A disk of its own for each workspace CodeBuddy creates: a sparse file holding an ext4
 * file system, loop-mounted at the workspace root. Writes past its size fail with ENOSPC
 * (for the file tools and for commands alike, local or in a container, since a Docker
 * workspace's files are this same directory bind-mounted), and nothing else on the host
 * fills up. Why this mechanism: it needs no quota support from the host's file system
 * (project quotas need XFS or an ext4 mounted with prjquota, which the data directory
 * rarely is), holds for every process that writes, and costs ~20 ms per workspace (the
 * image is sparse and its inode tables are initialised lazily). It needs root (mount)
 * and loop devices; a server without them logs so at start and creates workspaces
 * without a disk limit. Adopted directories are the user's own and are never given one.
 *
 * Mounts outlive the server process on purpose: a running container's bind mount holds
 * the file system, and mounting the image a second time would corrupt it. At start,
 * images whose mount is gone (a reboot) are mounted again.
 */
export class WorkspaceDisks {
  private usable: boolean | undefined;

  constructor(
    /** Where the images live: `<dataDir>/disks`. */
    private readonly directory: string,
    private readonly logger: Logger,
  ) {}

  /** Root and loop devices: without them the limit cannot be had, and the operator is told once. */
  available(): boolean {
    if (this.usable === undefined) {
      this.usable = process.getuid?.() === 0 && existsSync('/dev/loop-control');
      if (!this.usable) this.logger.warn('workspace disk limits need root and loop devices (/dev/loop-control): workspaces are created without one');
    }
    return this.usable;
  }

  imageOf(tenantId: string, workspaceId: string): string {
    return join(this.directory, tenantId, `${workspaceId}.img`);
  }

  /** Gives an empty workspace directory a file system of `bytes`, mounted over it. */
  async attach(tenantId: string, workspaceId: string, root: string, bytes: number): Promise<void> {
    const image = this.imageOf(tenantId, workspaceId);
    await mkdir(join(this.directory, tenantId), { recursive: true, mode: 0o700 });
    const handle = await open(image, 'wx', 0o600);
    try {
      await handle.truncate(bytes);
    } finally {
      await handle.close();
    }
    try {
      // -m 0: no blocks reserved for root (commands never run as root); lazy init keeps this fast.
      await run('mkfs.ext4', ['-q', '-F', '-m', '0', '-E', 'lazy_itable_init=1,lazy_journal_init=1', image]);
      await this.mount(image, root);
      // An empty workspace is empty: the agent has no use for ext4's lost+found.
      await rmdir(join(root, 'lost+found')).catch(() => undefined);
    } catch (error) {
      await rm(image, { force: true });
      throw error;
    }
  }

  /** Unmounts and removes a workspace's disk, when it has one. */
  async detach(tenantId: string, workspaceId: string, root: string): Promise<void> {
    const image = this.imageOf(tenantId, workspaceId);
    if (!existsSync(image)) return;
    if (mountedAt(root)) {
      // A lazy unmount when a process still holds a file open: the space is freed once it lets go.
      await run('umount', [root]).catch(() => run('umount', ['-l', root]));
    }
    await rm(image, { force: true });
  }

  /** After a reboot: each workspace whose image exists but is not mounted gets it back. */
  async remount(workspaces: readonly { tenantId: string; id: string; root: string }[]): Promise<number> {
    let mounted = 0;
    for (const workspace of workspaces) {
      const image = this.imageOf(workspace.tenantId, workspace.id);
      if (!existsSync(image) || mountedAt(workspace.root)) continue;
      try {
        await this.mount(image, workspace.root);
        mounted++;
      } catch (error) {
        this.logger.error({ err: error, workspaceId: workspace.id }, 'could not mount the disk of a workspace again');
      }
    }
    return mounted;
  }

  private async mount(image: string, root: string): Promise<void> {
    await run('mount', ['-o', 'loop,nosuid,nodev', image, root]);
  }
}

/** Whether something is mounted exactly at `path`, from this process's mount table. */
export function mountedAt(path: string): boolean {
  const table = readFileSync('/proc/self/mountinfo', 'utf8');
  return table.split('\n').some((line) => {
    const point = line.split(' ')[4];
    return point !== undefined && point.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))) === path;
  });
}
