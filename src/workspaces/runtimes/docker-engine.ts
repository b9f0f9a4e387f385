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

  async state(containerId: string): Promise<ContainerState> {
    try {
      const info = await this.docker.getContainer(containerId).inspect();
      return info.State.Running ? 'running' : 'stopped';
    } catch {
      return 'missing';
    }
  }

  async start(containerId: string): Promise<void> {
    const container = this.docker.getContainer(containerId);
    if ((await container.inspect()).State.Running) return;
    await container.start();
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

  /** Container ids by workspace id, for every container this server made. */
  async labelled(): Promise<Map<string, string>> {
    const containers = await this.docker.listContainers({ all: true, filters: { label: [WORKSPACE_LABEL] } });
    return new Map(containers.map((container) => [container.Labels[WORKSPACE_LABEL]!, container.Id]));
  }
}
