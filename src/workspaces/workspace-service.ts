import { chown, mkdir, realpath, rm, stat } from 'node:fs/promises';
import { basename, join, sep } from 'node:path';
import type { Clock } from '../core/clock.js';
import { CodeBuddyError } from '../core/errors.js';
import type { EventBus } from '../core/event-bus.js';
import type { IdGenerator } from '../core/ids.js';
import type { Principal } from '../auth/principal.js';
import type { TenantRepository } from '../store/tenant-repository.js';
import type { WorkspaceRepository, WorkspaceRow } from '../store/workspace-repository.js';
import { workspaceNamePattern, type Workspace } from './workspace.js';
import type { ContainerEvent, ContainerLimits, ContainerStatus, DockerEngine } from './runtimes/docker-engine.js';
import type { Logger } from '../core/logger.js';
import { ContainerWatch } from './container-watch.js';
import { containerNotRunning, containerRefusal } from './container-unavailable.js';
import type { WorkspaceDisks } from './workspace-disk.js';
import { PathLock } from '../files/path-lock.js';
import { removeDirectoryTree } from '../files/remove-tree.js';

/** How a workspace was made, kept with it: a Docker workspace's container or a local one's network, its owner, and a disk limit. */
interface RuntimeConfig {
  image?: string;
  limits?: ContainerLimits;
  network?: boolean;
  owner?: { uid: number; gid: number };
  /** Size of the workspace's own file system (workspace-disk.ts), when it has one. */
  diskBytes?: number;
}

/** The uid a Docker workspace's commands run as when CodeBuddy made its directory. */
const CONTAINER_UID = 1000;

export interface WorkspaceServiceOptions {
  /** Told when a workspace's processes must end: it is stopped or being deleted. */
  events?: EventBus;
  /** Where containers stopping behind the server's back are reported. */
  logger?: Logger;
  /** Absolute, symlink-free data directory; new workspaces are made under `<dataDir>/workspaces`. */
  dataDir: string;
  /** Directories under which existing directories may be adopted. */
  allowedRoots: readonly string[];
  /**
   * Who owns a new local workspace's files and runs its sandboxed commands; unset when
   * commands run unsandboxed (as the server's user) or not at all.
   */
  localOwner?: { uid: number; gid: number };
  /** The Docker engine, when this server may make Docker workspaces. */
  docker?: {
    engine: DockerEngine;
    image: string;
    limits: ContainerLimits;
    networkWhenEnabled: string;
    /** Images other than `image` that any role may ask for; others need the admin role. */
    allowedImages: readonly string[];
    /** Whether roles other than admin may ask for network. */
    agentNetwork: boolean;
  };
  /** Each created workspace's own disk, of at most `maxBytes` (0: no disk limits). */
  disks?: { manager: WorkspaceDisks; maxBytes: number };
}

export interface CreateWorkspaceInput {
  name: string;
  path?: string;
  runtime?: 'local' | 'docker';
  image?: string;
  limits?: { memory_mb?: number; cpus?: number; pids?: number; network?: boolean; disk_mb?: number };
}

function toWorkspace(row: WorkspaceRow): Workspace {
  const config = row.runtime_config_json ? (JSON.parse(row.runtime_config_json) as RuntimeConfig) : undefined;
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    root: row.root_path,
    adopted: row.adopted === 1,
    runtime: row.runtime === 'docker' ? 'docker' : 'local',
    status: row.status,
    createdBy: row.created_by,
    createdAt: row.created_at,
    ...(row.container_id ? { containerId: row.container_id } : {}),
    ...(config?.owner ? { owner: config.owner } : {}),
    network: config?.limits ? config.limits.network !== 'none' : config?.network === true,
    ...(config?.diskBytes ? { diskBytes: config.diskBytes } : {}),
  };
}

/** A Docker workspace's status for what the engine says of its container, and why, when it is not ready. */
function statusOf(seen: ContainerStatus, how: string): { status: 'ready' | 'stopped' | 'lost'; why?: string } {
  if (seen.state === 'running') return { status: 'ready' };
  if (seen.state === 'missing') return { status: 'lost', why: `removed ${how}` };
  if (seen.paused) return { status: 'stopped', why: `paused ${how}` };
  return { status: 'stopped', why: `stopped ${how}${seen.oomKilled ? ', out of memory' : seen.exitCode !== undefined ? `, exit ${seen.exitCode}` : ''}` };
}

function isWithin(parent: string, child: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

function overlaps(a: string, b: string): boolean {
  return isWithin(a, b) || isWithin(b, a);
}

/** Owns the workspaces table and the workspace directories. Every method is scoped by the principal's tenant. */
export class WorkspaceService {
  private allowedRootsReal: string[] | undefined;
  /**
   * Workspaces already resolved by id, keyed `tenant\0id`: every file call resolves one,
   * and the row only changes through this service, which drops the entry on delete.
   */
  private readonly byId = new Map<string, Workspace>();
  /** Why a Docker workspace is not ready, keyed `tenant\0id`; kept in memory (after a restart, reconcile says). */
  private readonly whyNotReady = new Map<string, string>();
  /**
   * Each Docker workspace's status changes, keyed `tenant\0id`, run one after another: a check
   * that read the engine before workspace_stop cannot land after it.
   */
  private readonly statusTurns = new PathLock();
  /** A check waiting in its workspace's queue, not yet begun: another asked for meanwhile joins it. */
  private readonly waitingChecks = new Map<string, { done: Promise<void>; mayStart: boolean }>();
  /** Follows the engine's events, so a container stopped behind the server's back is noticed; made with the first Docker workspace. */
  private watch: ContainerWatch | undefined;

  constructor(
    private readonly repository: WorkspaceRepository,
    private readonly tenants: TenantRepository,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly options: WorkspaceServiceOptions,
  ) {}

  /** A new empty directory, or an existing directory under an allowed root; run locally or in a container. */
  async create(principal: Principal, input: CreateWorkspaceInput): Promise<Workspace> {
    this.assertNameFree(principal.tenantId, input.name);
    const docker = input.runtime === 'docker' ? this.dockerOrFail() : undefined;
    this.assertChoicesAllowed(principal, docker, input);
    const diskBytes = input.path === undefined ? this.diskBytesFor(input.limits?.disk_mb) : undefined;
    if (docker && !(await docker.engine.available())) {
      throw new CodeBuddyError('E_CONFIG', 'the Docker engine is not reachable (CODEBUDDY_DOCKER_SOCKET): Docker workspaces are unavailable', { field: 'runtime' });
    }
    const id = this.ids.next('ws');
    let root: string;
    let adopted: boolean;
    if (input.path === undefined) {
      const made = join(this.options.dataDir, 'workspaces', principal.tenantId, id);
      await mkdir(made, { recursive: true });
      root = await realpath(made);
      adopted = false;
      if (diskBytes !== undefined) {
        await this.options.disks!.manager.attach(principal.tenantId, id, root, diskBytes).catch(async (error: unknown) => {
          await rm(root, { recursive: true, force: true });
          throw error;
        });
      }
    } else {
      // Until the path is known to lie under an allowed root, every failure answers alike:
      // telling "missing" from "a file" from "forbidden" would let a tenant map the host.
      const real = await realpath(input.path).catch(() => undefined);
      if (real === undefined || !(await this.isUnderAllowedRoot(real))) {
        throw new CodeBuddyError('E_FORBIDDEN', `${input.path} is not a directory under an allowed root (an operator lists them in CODEBUDDY_ALLOWED_ROOTS)`, { field: 'path' });
      }
      root = await this.existingDirectory(real);
      adopted = true;
    }
    if (!docker) {
      return this.undoIfFails(principal.tenantId, id, root, adopted, async () => {
        const owner = await this.localOwner(root, adopted);
        const network = input.limits?.network === true;
        const config: RuntimeConfig = { ...(owner ? { owner } : {}), ...(network ? { network } : {}), ...(diskBytes !== undefined ? { diskBytes } : {}) };
        return this.register(principal, { id, name: input.name, root, adopted, ...(Object.keys(config).length > 0 ? { config } : {}) });
      });
    }

    // Followed before the container exists: nothing that happens to it can go unnoticed.
    await this.watchContainers(docker.engine);
    const owner = await this.undoIfFails(principal.tenantId, id, root, adopted, () => this.containerOwner(root, adopted));
    const config: RuntimeConfig = {
      image: input.image ?? docker.image,
      owner,
      ...(diskBytes !== undefined ? { diskBytes } : {}),
      limits: {
        memoryBytes: Math.min(input.limits?.memory_mb ? input.limits.memory_mb * 1024 * 1024 : docker.limits.memoryBytes, docker.limits.memoryBytes),
        cpus: Math.min(input.limits?.cpus ?? docker.limits.cpus, docker.limits.cpus),
        pids: Math.min(input.limits?.pids ?? docker.limits.pids, docker.limits.pids),
        network: input.limits?.network ? docker.networkWhenEnabled : 'none',
      },
    };
    const workspace = await this.undoIfFails(principal.tenantId, id, root, adopted, async () => this.register(principal, { id, name: input.name, root, adopted, runtime: 'docker', config }));
    // No workspace without its container: a failure undoes the registration (and the directory we made).
    return this.undoIfFails(principal.tenantId, id, root, adopted, async () => {
      const containerId = await docker.engine.create({ workspaceId: id, tenantId: principal.tenantId, image: config.image!, hostRoot: root, user: `${owner.uid}:${owner.gid}`, limits: config.limits! });
      this.repository.setRuntimeState(principal.tenantId, id, 'ready', containerId);
      return { ...workspace, status: 'ready', containerId };
    });
  }

  /**
   * Network and images beyond the allowed ones widen what workspace code can reach (the
   * network, anything an image ships): the admin role decides that, unless the operator
   * allowed it for everyone.
   */
  /** An image outside the allowed ones, or network (for a container or a local sandbox alike), is the admin's choice. */
  private assertChoicesAllowed(principal: Principal, docker: WorkspaceServiceOptions['docker'], input: CreateWorkspaceInput): void {
    if (principal.role === 'admin') return;
    if (docker && input.image !== undefined && input.image !== docker.image && !docker.allowedImages.includes(input.image)) {
      throw new CodeBuddyError('E_FORBIDDEN', `image ${input.image} is not among the images this server allows (dockerImage, dockerAllowedImages); only an admin may choose another`, { field: 'image' });
    }
    if (input.limits?.network && !this.options.docker?.agentNetwork) {
      throw new CodeBuddyError('E_FORBIDDEN', 'network access for a workspace needs the admin role (or the server setting dockerAgentNetwork)', { field: 'limits.network' });
    }
  }

  /** The disk a new workspace gets: the server's size, or less when asked; undefined when disk limits are off. */
  private diskBytesFor(diskMb: number | undefined): number | undefined {
    const disks = this.options.disks;
    if (!disks || disks.maxBytes === 0 || !disks.manager.available()) {
      if (diskMb !== undefined) throw new CodeBuddyError('E_INVALID_ARGUMENT', 'limits.disk_mb: this server gives workspaces no disk limits', { field: 'limits.disk_mb' });
      return undefined;
    }
    const asked = diskMb === undefined ? disks.maxBytes : diskMb * 1024 * 1024;
    if (asked > disks.maxBytes) {
      throw new CodeBuddyError('E_INVALID_ARGUMENT', `limits.disk_mb: at most ${Math.floor(disks.maxBytes / 1024 / 1024)} on this server`, { field: 'limits.disk_mb' });
    }
    return asked;
  }

  /** Runs a step of creating a workspace; when it fails, what was made so far goes again. */
  private async undoIfFails<T>(tenantId: string, id: string, root: string, adopted: boolean, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      this.repository.delete(tenantId, id);
      if (!adopted) {
        await this.options.disks?.manager.detach(tenantId, id, root);
        await rm(root, { recursive: true, force: true });
      }
      throw error;
    }
  }

  /**
   * Stops or starts a Docker workspace's container; its files stay where they are. A lost
   * workspace (its container removed behind the server's back) gets a new container: the
   * old one kept nothing worth keeping (read-only root, a tmpfs /tmp, files on the host).
   */
  async setRunning(principal: Principal, reference: string, running: boolean): Promise<Workspace> {
    const workspace = this.resolve(principal, reference);
    if (workspace.runtime !== 'docker') {
      throw new CodeBuddyError('E_INVALID_ARGUMENT', `workspace ${workspace.name} runs locally: there is no container to ${running ? 'start' : 'stop'}`, { field: 'workspace' });
    }
    const engine = this.dockerOrFail().engine;
    const row = this.repository.findById(principal.tenantId, workspace.id)!;
    if (!running) {
      // Marked (and announced) first: what runs in it ends cleanly, and the engine's own events then change nothing.
      await this.inTurn(row.tenant_id, row.id, async () => {
        const now = this.repository.findById(row.tenant_id, row.id);
        if (now?.status === 'ready') this.settle(now, 'stopped', 'stopped with workspace_stop');
      });
      if (workspace.status !== 'ready') return this.resolve(principal, workspace.id);
      await engine.stop(workspace.containerId!).catch(async (error: unknown) => {
        await this.checkContainer(row.tenant_id, row.id, true);
        throw containerRefusal(workspace, error);
      });
      return this.resolve(principal, workspace.id);
    }
    try {
      if (workspace.status === 'lost' || !workspace.containerId) await this.recreate(row);
      else await engine.start(workspace.containerId);
    } catch (error) {
      throw containerRefusal(workspace, error);
    }
    // What the engine says now, not what was asked: a container that died at once is not ready.
    await this.checkContainer(row.tenant_id, row.id, true);
    const after = this.resolve(principal, workspace.id);
    if (after.status !== 'ready') throw containerNotRunning(after, after.status, `${after.statusReason ?? after.status} right after it started`);
    return after;
  }

  /** A new container for a workspace whose container vanished, made as the first was. */
  private async recreate(row: WorkspaceRow): Promise<void> {
    const engine = this.dockerOrFail().engine;
    await this.watchContainers(engine);
    const config = JSON.parse(row.runtime_config_json ?? '{}') as RuntimeConfig;
    if (!config.image || !config.limits || !config.owner) throw new CodeBuddyError('E_CONFLICT', `workspace ${row.name} has no container settings on record; delete it and create it again`);
    const containerId = await engine.create({ workspaceId: row.id, tenantId: row.tenant_id, image: config.image, hostRoot: row.root_path, user: `${config.owner.uid}:${config.owner.gid}`, limits: config.limits });
    this.repository.setRuntimeState(row.tenant_id, row.id, 'ready', containerId);
    this.forget(row);
    this.options.logger?.info({ workspaceId: row.id, containerId }, 'a lost Docker workspace got a new container');
  }

  /**
   * After a restart: each Docker workspace is matched to its container again. A stopped one
   * is `stopped`, a vanished one `lost`: a clear status, never a crash loop. From then on the
   * engine's events keep the statuses true.
   */
  async reconcile(): Promise<{ ready: number; stopped: number; lost: number }> {
    const counts = { ready: 0, stopped: 0, lost: 0 };
    // Disks first: a container started below must find its files, not the empty mount point.
    const disks = this.options.disks?.manager;
    if (disks?.available()) await disks.remount(this.repository.allCreated().map((row) => ({ tenantId: row.tenant_id, id: row.id, root: row.root_path })));
    const engine = this.options.docker?.engine;
    const rows = this.repository.allDocker();
    if (rows.length === 0 || !engine || !(await engine.available())) return counts;
    // Followed before the containers are looked at: a change meanwhile is not missed.
    await this.watchContainers(engine);
    const labelled = await engine.labelled();
    for (const row of rows) {
      const containerId = row.container_id ?? labelled.get(row.id);
      // An engine that stops answering midway leaves the rest as they were (never `lost` for that): its events resume later.
      const seen = containerId ? await engine.status(containerId).catch(() => undefined) : { state: 'missing' as const };
      if (!seen) continue;
      const { status, why } = statusOf(seen, 'while the server was down');
      this.repository.setRuntimeState(row.tenant_id, row.id, status, containerId ?? null);
      this.forget(row);
      if (why) this.whyNotReady.set(`${row.tenant_id}\0${row.id}`, why);
      counts[status]++;
    }
    return counts;
  }

  /** Stops following the engine's events. */
  close(): void {
    this.watch?.close();
  }

  private async watchContainers(engine: DockerEngine): Promise<void> {
    this.watch ??= new ContainerWatch(engine, { changed: (event) => this.containerChanged(event), resumed: () => this.checkAllContainers() }, this.options.logger);
    await this.watch.start();
  }

  /** An event names a container; only a workspace of this server whose container it still is may change. */
  private containerChanged(event: ContainerEvent): void {
    const row = this.repository.findById(event.tenantId, event.workspaceId);
    if (row?.container_id !== event.containerId) return;
    void this.checkContainer(row.tenant_id, row.id, event.action === 'start' || event.action === 'unpause');
  }

  /** After a gap in the engine's events (it restarted): every Docker workspace is checked. */
  private async checkAllContainers(): Promise<void> {
    await Promise.all(this.repository.allDocker().map((row) => this.checkContainer(row.tenant_id, row.id, true)));
  }

  /**
   * Sets a workspace's status to what the engine says of its container now. Events only say
   * when to look (a `kill` may leave it running): reading the state itself, in turn with the
   * workspace's other status changes, the last word is always the truth. Only a start (or a
   * look after a gap) may make it ready: a container seen running while `docker stop` or
   * workspace_stop takes it down is not coming back.
   */
  private checkContainer(tenantId: string, id: string, mayStart: boolean): Promise<void> {
    const key = `${tenantId}\0${id}`;
    const waiting = this.waitingChecks.get(key);
    if (waiting) {
      waiting.mayStart ||= mayStart;
      return waiting.done;
    }
    const check = { mayStart, done: Promise.resolve() };
    check.done = this.inTurn(tenantId, id, async () => {
      this.waitingChecks.delete(key);
      const row = this.repository.findById(tenantId, id);
      // A workspace being created or deleted is that call's to settle.
      if (!row || row.runtime !== 'docker' || row.status === 'creating' || row.status === 'deleting' || !row.container_id) return;
      const seen = await this.options.docker!.engine.status(row.container_id);
      const { status, why } = statusOf(seen, 'outside CodeBuddy');
      if (status !== 'ready' || check.mayStart) this.settle(row, status, why);
    }).catch((error: unknown) => this.options.logger?.warn({ err: error, workspaceId: id }, "a Docker workspace's container could not be checked"));
    this.waitingChecks.set(key, check);
    return check.done;
  }

  /** Runs `step` after the workspace's earlier status changes; it fails alone. */
  private inTurn(tenantId: string, id: string, step: () => Promise<void>): Promise<void> {
    return this.statusTurns.run(`${tenantId}\0${id}`, step);
  }

  /**
   * A Docker workspace's new status. Leaving `ready` is announced (workspace.stopped): its
   * terminals end, saying why. The same status again changes nothing, not even the reason: a
   * stop asked for with workspace_stop stays one when the engine's events confirm it.
   */
  private settle(row: WorkspaceRow, status: 'ready' | 'stopped' | 'lost', why: string | undefined): void {
    if (row.status === status) return;
    const key = `${row.tenant_id}\0${row.id}`;
    this.repository.setRuntimeState(row.tenant_id, row.id, status);
    this.forget(row);
    if (why) this.whyNotReady.set(key, why);
    else this.whyNotReady.delete(key);
    if (row.status !== 'ready') return;
    if (!why?.endsWith('workspace_stop')) this.options.logger?.warn({ workspaceId: row.id, tenantId: row.tenant_id, status, why }, "a Docker workspace's container stopped behind the server's back");
    this.options.events?.publish('workspace.stopped', { tenantId: row.tenant_id, workspaceId: row.id, ...(why ? { reason: why } : {}) });
  }

  private forget(row: WorkspaceRow): void {
    this.byId.delete(`${row.tenant_id}\0${row.id}`);
  }

  /** A row as callers see it: with why it is not ready, when known. */
  private view(row: WorkspaceRow): Workspace {
    const workspace = toWorkspace(row);
    const why = workspace.status === 'ready' ? undefined : this.whyNotReady.get(`${row.tenant_id}\0${row.id}`);
    return why ? { ...workspace, statusReason: why } : workspace;
  }

  /**
   * Adopts a directory named by the local user on the command line (`serve --stdio
   * --workspace PATH`): no allowed-root check, and the same directory maps to the same
   * workspace across restarts.
   */
  async adoptLocal(principal: Principal, path: string): Promise<Workspace> {
    const root = await this.existingDirectory(path);
    const existing = this.repository.findByRoot(principal.tenantId, root);
    if (existing) return this.withLocalOwner(existing);
    const stem = basename(root).replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 48) || 'workspace';
    let name = stem;
    for (let n = 2; this.repository.findByName(principal.tenantId, name); n++) name = `${stem}-${n}`;
    const owner = await this.localOwner(root, true);
    return this.register(principal, { id: this.ids.next('ws'), name, root, adopted: true, ...(owner ? { config: { owner } } : {}) });
  }

  list(principal: Principal, afterName: string, limit: number): Workspace[] {
    return this.repository.list(principal.tenantId, afterName, limit).map((row) => this.view(row));
  }

  /**
   * `reference` is an id or a name. Omitted, it is the default workspace, or the
   * tenant's only workspace. Another tenant's workspace answers exactly as a missing one.
   */
  resolve(principal: Principal, reference: string | undefined, defaultId?: string): Workspace {
    const tenantId = principal.tenantId;
    if (reference === undefined) {
      const fallback = defaultId ? this.findCachedById(tenantId, defaultId) : undefined;
      if (fallback) return fallback;
      const candidates = this.repository.list(tenantId, '', 2);
      if (candidates.length === 1) return this.view(candidates[0]!);
      throw new CodeBuddyError(
        'E_INVALID_ARGUMENT',
        candidates.length === 0 ? 'no workspace yet: create one with workspace_create' : 'workspace is required: this tenant has several (see workspace_list)',
        { field: 'workspace' },
      );
    }
    const byId = this.findCachedById(tenantId, reference);
    if (byId) return byId;
    const byName = this.repository.findByName(tenantId, reference);
    if (!byName) throw new CodeBuddyError('E_NOT_FOUND', `workspace ${reference} not found`);
    return this.view(byName);
  }

  /** Unregisters the workspace; deletes its directory only when CodeBuddy created it. */
  async delete(principal: Principal, reference: string): Promise<{ workspace: Workspace; deletedFiles: boolean }> {
    const workspace = this.resolve(principal, reference);
    this.byId.delete(`${principal.tenantId}\0${workspace.id}`);
    this.whyNotReady.delete(`${principal.tenantId}\0${workspace.id}`);
    this.options.events?.publish('workspace.deleted', { tenantId: workspace.tenantId, workspaceId: workspace.id });
    if (workspace.containerId) {
      // Its container's end is this call's doing, not news to announce.
      this.repository.setRuntimeState(principal.tenantId, workspace.id, 'deleting');
      await this.options.docker?.engine.remove(workspace.containerId);
    }
    this.repository.delete(principal.tenantId, workspace.id);
    if (!workspace.adopted) {
      await this.options.disks?.manager.detach(principal.tenantId, workspace.id, workspace.root);
      await removeDirectoryTree(workspace.root);
    }
    return { workspace, deletedFiles: !workspace.adopted };
  }

  private dockerOrFail(): NonNullable<WorkspaceServiceOptions['docker']> {
    if (!this.options.docker) throw new CodeBuddyError('E_CONFIG', 'this server has no Docker engine configured: Docker workspaces are unavailable');
    return this.options.docker;
  }

  /**
   * The uid:gid a container runs as, never root: the directory's owner when that is a user,
   * else (a directory CodeBuddy made, owned by the server's root) the image's user, who is
   * then given the directory. An adopted root-owned directory is not silently given away.
   */
  private async containerOwner(root: string, adopted: boolean): Promise<{ uid: number; gid: number }> {
    const info = await stat(root);
    if (info.uid !== 0) return { uid: info.uid, gid: info.gid };
    if (adopted) {
      throw new CodeBuddyError('E_INVALID_ARGUMENT', 'that directory is owned by root, and Docker workspaces never run as root: give it to the user who should own the files', { field: 'path' });
    }
    await chown(root, CONTAINER_UID, CONTAINER_UID);
    return { uid: CONTAINER_UID, gid: CONTAINER_UID };
  }

  /**
   * A directory adopted before its commands were sandboxed (or while they were not) has no
   * owner on record: it gets one now, if its directory has one that commands may run as, so
   * that the file tools and the sandbox agree on who owns its files.
   */
  private async withLocalOwner(row: WorkspaceRow): Promise<Workspace> {
    const workspace = toWorkspace(row);
    if (workspace.owner || workspace.runtime !== 'local') return workspace;
    const owner = await this.localOwner(workspace.root, true);
    if (!owner) return workspace;
    const config: RuntimeConfig = { ...(row.runtime_config_json ? (JSON.parse(row.runtime_config_json) as RuntimeConfig) : {}), owner };
    this.repository.setRuntimeConfig(row.tenant_id, row.id, JSON.stringify(config));
    this.byId.delete(`${row.tenant_id}\0${row.id}`);
    return { ...workspace, owner };
  }

  /**
   * Who a local workspace's sandboxed commands run as: an adopted directory's owner when that
   * is neither root nor the server's user; a directory CodeBuddy made is given to the sandbox
   * user. An adopted directory of root's or the server's has no owner: its commands are
   * refused (the runtime says why) rather than run as the server.
   */
  private async localOwner(root: string, adopted: boolean): Promise<{ uid: number; gid: number } | undefined> {
    const sandboxUser = this.options.localOwner;
    if (!sandboxUser) return undefined;
    if (!adopted) {
      await chown(root, sandboxUser.uid, sandboxUser.gid);
      return sandboxUser;
    }
    const info = await stat(root);
    return info.uid !== 0 && info.uid !== process.getuid?.() ? { uid: info.uid, gid: info.gid } : undefined;
  }

  private findCachedById(tenantId: string, id: string): Workspace | undefined {
    const key = `${tenantId}\0${id}`;
    let workspace = this.byId.get(key);
    if (!workspace) {
      const row = this.repository.findById(tenantId, id);
      if (!row) return undefined;
      workspace = this.view(row);
      this.byId.set(key, workspace);
    }
    return workspace;
  }

  private assertNameFree(tenantId: string, name: string): void {
    if (!workspaceNamePattern.test(name)) {
      throw new CodeBuddyError('E_INVALID_ARGUMENT', 'name: letters, digits, . _ -, starting with a letter or digit, at most 64', { field: 'name' });
    }
    if (this.repository.findByName(tenantId, name)) throw new CodeBuddyError('E_CONFLICT', `a workspace named ${name} exists`, { field: 'name' });
  }

  private async existingDirectory(path: string): Promise<string> {
    let root: string;
    try {
      root = await realpath(path);
    } catch {
      throw new CodeBuddyError('E_NOT_FOUND', `directory ${path} not found`, { field: 'path' });
    }
    if (!(await stat(root)).isDirectory()) throw new CodeBuddyError('E_NOT_A_DIRECTORY', `${path} is not a directory`, { field: 'path' });
    return root;
  }

  private async isUnderAllowedRoot(root: string): Promise<boolean> {
    this.allowedRootsReal ??= (
      await Promise.all(this.options.allowedRoots.map((allowed) => realpath(allowed).catch(() => undefined)))
    ).filter((allowed): allowed is string => allowed !== undefined);
    return this.allowedRootsReal.some((allowed) => isWithin(allowed, root));
  }

  private register(principal: Principal, input: { id: string; name: string; root: string; adopted: boolean; runtime?: 'local' | 'docker'; config?: RuntimeConfig }): Workspace {
    // The data directory holds the database and other tenants' workspaces: no adopted directory may touch it.
    if (input.adopted && overlaps(this.options.dataDir, input.root)) {
      throw new CodeBuddyError('E_FORBIDDEN', 'that directory overlaps the server data directory', { field: 'path' });
    }
    if (this.repository.allRootPaths().some((other) => overlaps(other, input.root))) {
      throw new CodeBuddyError('E_CONFLICT', 'that directory is, contains or lies inside another workspace', { field: 'path' });
    }
    const now = this.clock.now();
    this.tenants.ensure(principal.tenantId, now);
    const row: WorkspaceRow = {
      tenant_id: principal.tenantId,
      id: input.id,
      name: input.name,
      root_path: input.root,
      adopted: input.adopted ? 1 : 0,
      runtime: input.runtime ?? 'local',
      status: input.runtime === 'docker' ? 'creating' : 'ready',
      created_by: principal.userId,
      created_at: now,
      container_id: null,
      runtime_config_json: input.config ? JSON.stringify(input.config) : null,
    };
    try {
      this.repository.insert(row);
    } catch (error) {
      if ((error as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) throw new CodeBuddyError('E_CONFLICT', `a workspace named ${input.name} exists`, { field: 'name' });
      throw error;
    }
    return toWorkspace(row);
  }
}
