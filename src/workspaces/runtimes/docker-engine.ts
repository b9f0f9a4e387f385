import type Docker from 'dockerode';
import { createRequire } from 'node:module';
import { CodeBuddyError } from '../../core/errors.js';
import { WORKSPACE_MOUNT } from '../workspace.js';

export const WORKSPACE_LABEL = 'codebuddy.workspace';
export const TENANT_LABEL = 'codebuddy.tenant';

export interface ContainerLimits {
  memoryBytes: number;
  cpus: number;
  pids: number;
  /** Docker network mode: `none` unless the workspace was given network. */
  network: string;
}

export interface ContainerSpec {
  workspaceId: string;
  tenantId: string;
  image: string;
  hostRoot: string;
  /** uid:gid the workspace's commands run as: never root. */
  user: string;
  limits: ContainerLimits;
}

export type ContainerState = 'running' | 'stopped' | 'missing';

/** What the engine says of a container now: a paused one counts as stopped (nothing in it runs). */
export interface ContainerStatus {
  state: ContainerState;
  paused?: boolean;
  /** The main process's exit code, once stopped. */
  exitCode?: number;
  /** The kernel's OOM killer ended it. */
  oomKilled?: boolean;
}

/** A change to one of this server's containers, as the engine reports it. */
export interface ContainerEvent {
  containerId: string;
  workspaceId: string;
  tenantId: string;
  /** The engine's action: start, die, stop, kill, destroy, pause, unpause. */
  action: string;
}

/** The engine's actions after which a workspace's status may have changed. */
const WATCHED_ACTIONS = ['start', 'die', 'stop', 'kill', 'destroy', 'pause', 'unpause'];
/** An event is a few hundred bytes: a line longer than this is not one, and is dropped. */
const MAX_EVENT_LINE = 64 * 1024;

/**
 * Containers of Docker workspaces, through the engine's API (dockerode). Each is labelled with
 * its workspace and tenant, so a restarted server finds its containers again, and runs
 * locked down: read-only root with a tmpfs /tmp, every capability dropped, no new
 * privileges, a non-root user, memory, CPU and process caps, no network unless asked for.
 * The workspace's files stay on the host, bind-mounted at /workspace.
 */
export class DockerEngine {
  private client: Docker | undefined;

  constructor(private readonly socketPath?: string) {}

  /**
   * The engine's API client, made on first use: dockerode and its dependencies (~10 MiB
   * resident) are loaded only by a server that has Docker workspaces (a CommonJS package,
   * required synchronously so that callers stay as they are).
   */
  get docker(): Docker {
    if (!this.client) {
      const DockerClient = createRequire(import.meta.url)('dockerode') as typeof Docker;
      this.client = this.socketPath ? new DockerClient({ socketPath: this.socketPath }) : new DockerClient();
    }
    return this.client;
  }

  async available(): Promise<boolean> {
    try {
      await this.docker.ping();
      return true;
    } catch {
      return false;
    }
  }

  async create(spec: ContainerSpec): Promise<string> {
    try {
      await this.docker.getImage(spec.image).inspect();
    } catch {
      throw new CodeBuddyError('E_NOT_FOUND', `image ${spec.image} is not on the Docker engine; build it with tools/build-workspace-image.sh`, { field: 'image' });
    }
    const container = await this.docker.createContainer({
      Image: spec.image,
      name: `codebuddy-${spec.workspaceId}`,
      Cmd: ['sleep', 'infinity'],
      User: spec.user,
      WorkingDir: WORKSPACE_MOUNT,
      Env: ['HOME=/tmp', 'LANG=C.UTF-8', 'PATH=/usr/local/bin:/usr/bin:/bin'],
      Labels: { [WORKSPACE_LABEL]: spec.workspaceId, [TENANT_LABEL]: spec.tenantId },
      HostConfig: {
        Binds: [`${spec.hostRoot}:${WORKSPACE_MOUNT}`],
        ReadonlyRootfs: true,
        Tmpfs: { '/tmp': 'rw,nosuid,size=512m' },
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        Memory: spec.limits.memoryBytes,
        MemorySwap: spec.limits.memoryBytes,
        NanoCpus: Math.round(spec.limits.cpus * 1e9),
        PidsLimit: spec.limits.pids,
        NetworkMode: spec.limits.network,
        Init: true,
      },
    });
    await container.start();
    return container.id;
  }

  /** Missing only when the engine says so (404): an unreachable engine throws. */
  async status(containerId: string): Promise<ContainerStatus> {
    try {
      const { State: state } = await this.docker.getContainer(containerId).inspect();
      if (state.Running && !state.Paused) return { state: 'running' };
      return { state: 'stopped', ...(state.Paused ? { paused: true } : { exitCode: state.ExitCode, oomKilled: state.OOMKilled }) };
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return { state: 'missing' };
      throw error;
    }
  }

  /** Starts a stopped container, or lets a paused one run again. */
  async start(containerId: string): Promise<void> {
    const container = this.docker.getContainer(containerId);
    const { State: state } = await container.inspect();
    if (state.Paused) await container.unpause();
    else if (!state.Running) await container.start();
  }

  async stop(containerId: string): Promise<void> {
    const container = this.docker.getContainer(containerId);
    if (!(await container.inspect()).State.Running) return;
    await container.stop({ t: 2 });
  }

  async remove(containerId: string): Promise<void> {
    try {
      await this.docker.getContainer(containerId).remove({ force: true });
    } catch {
      // already gone
    }
  }

  /**
   * Follows the engine's events of CodeBuddy's containers (by label: other servers' too, on a
   * shared engine; the caller matches them to its own). Resolves once the engine listens;
   * `ended` is called once if the stream ends or fails without being closed (the engine
   * restarted or went away). Returns the way to stop following.
   */
  async follow(onEvent: (event: ContainerEvent) => void, ended: (error: Error | undefined) => void): Promise<() => void> {
    const abort = new AbortController();
    const stream = (await this.docker.getEvents({
      filters: { type: ['container'], label: [WORKSPACE_LABEL], event: WATCHED_ACTIONS },
      abortSignal: abort.signal,
    } as Docker.GetEventsOptions)) as NodeJS.ReadableStream & { destroy(): void };
    let pending = '';
    let done = false;
    const finish = (error: Error | undefined) => {
      if (done) return;
      done = true;
      if (!abort.signal.aborted) ended(error);
    };
    stream.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop()!;
      if (pending.length > MAX_EVENT_LINE) pending = '';
      for (const line of lines) {
        const event = parseEvent(line);
        if (event) onEvent(event);
      }
    });
    stream.on('end', () => finish(undefined));
    stream.on('close', () => finish(undefined));
    stream.on('error', (error: Error) => finish(error));
    return () => {
      abort.abort();
      stream.destroy();
    };
  }

  /** Container ids by workspace id, for every container this server made. */
  async labelled(): Promise<Map<string, string>> {
    const containers = await this.docker.listContainers({ all: true, filters: { label: [WORKSPACE_LABEL] } });
    return new Map(containers.map((container) => [container.Labels[WORKSPACE_LABEL]!, container.Id]));
  }
}

function parseEvent(line: string): ContainerEvent | undefined {
  if (line.trim() === '' || line.length > MAX_EVENT_LINE) return undefined;
  try {
    const raw = JSON.parse(line) as { Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
    const attributes = raw.Actor?.Attributes ?? {};
    const workspaceId = attributes[WORKSPACE_LABEL];
    const tenantId = attributes[TENANT_LABEL];
    // The engine's filter lets `exec_die` through for `die`: a command ending changes nothing.
    if (!raw.Actor?.ID || !raw.Action || !WATCHED_ACTIONS.includes(raw.Action) || !workspaceId || !tenantId) return undefined;
    return { containerId: raw.Actor.ID, workspaceId, tenantId, action: raw.Action };
  } catch {
    return undefined;
  }
}
