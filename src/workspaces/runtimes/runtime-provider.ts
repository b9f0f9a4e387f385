import type { CodeBuddyError } from '../../core/errors.js';
import { containerNotRunning } from '../container-unavailable.js';
import type { Workspace } from '../workspace.js';
import type { DockerEngine } from './docker-engine.js';
import { DockerRuntime } from './docker-runtime.js';
import { LocalRuntime, type LocalRuntimeOptions } from './local-runtime.js';
import type { ExecResult, PtyProcess, Runtime, StdioProcess } from './runtime.js';

/**
 * A Docker workspace whose container does not run: every use fails with why, as that call's
 * own failure (a language server's start then counts as a failed start, not a crash of ours).
 */
class ContainerNotRunning implements Runtime {
  readonly kind = 'docker' as const;

  constructor(private readonly error: CodeBuddyError) {}

  exec(): Promise<ExecResult> {
    return Promise.reject(this.error);
  }

  spawnStdio(): Promise<StdioProcess> {
    return Promise.reject(this.error);
  }

  spawnPty(): PtyProcess {
    throw this.error;
  }
}

/** The runtime a workspace's commands and terminals run in. */
export class RuntimeProvider {
  private readonly containers = new Map<string, DockerRuntime>();

  constructor(
    private readonly local: LocalRuntimeOptions,
    private readonly engine: DockerEngine,
  ) {}

  for(workspace: Workspace): Runtime {
    if (workspace.runtime === 'local') return new LocalRuntime(this.local, workspace);
    if (workspace.status !== 'ready' || !workspace.containerId) return new ContainerNotRunning(containerNotRunning(workspace, workspace.status, workspace.statusReason));
    let runtime = this.containers.get(workspace.containerId);
    if (!runtime) this.containers.set(workspace.containerId, (runtime = new DockerRuntime(this.engine.docker, workspace.containerId, workspace)));
    return runtime;
  }
}
