import { containerNotRunning } from '../container-unavailable.js';
import type { Workspace } from '../workspace.js';
import type { DockerEngine } from './docker-engine.js';
import { DockerRuntime } from './docker-runtime.js';
import { LocalRuntime, type LocalRuntimeOptions } from './local-runtime.js';
import type { Runtime } from './runtime.js';

/** The runtime a workspace's commands and terminals run in. */
export class RuntimeProvider {
  private readonly containers = new Map<string, DockerRuntime>();

  constructor(
    private readonly local: LocalRuntimeOptions,
    private readonly engine: DockerEngine,
  ) {}

  for(workspace: Workspace): Runtime {
    if (workspace.runtime === 'local') return new LocalRuntime(this.local, workspace);
    if (workspace.status !== 'ready' || !workspace.containerId) throw containerNotRunning(workspace, workspace.status, workspace.statusReason);
    let runtime = this.containers.get(workspace.containerId);
    if (!runtime) this.containers.set(workspace.containerId, (runtime = new DockerRuntime(this.engine.docker, workspace.containerId, workspace)));
    return runtime;
  }
}
