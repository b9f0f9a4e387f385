/** A directory of files plus the runtime its commands run in. */
export interface Workspace {
  id: string;
  tenantId: string;
  name: string;
  /** Absolute, symlink-free path of the workspace directory on the host. */
  root: string;
  /** Adopted directories belong to the user: deleting the workspace never deletes them. */
  adopted: boolean;
  runtime: 'local' | 'docker';
  /** `ready`; Docker workspaces also `stopped`, or `lost` when their container vanished. */
  status: string;
  /** Why a Docker workspace is not `ready`, when the server knows (`stopped outside CodeBuddy, exit 137`). */
  statusReason?: string;
  /** Docker workspaces: the container commands run in. */
  containerId?: string;
  /** Who the files belong to, when it must not be the server's user: commands run as this uid. */
  owner?: { uid: number; gid: number };
  /** Whether its commands may use the network. */
  network?: boolean;
  /** Size of the workspace's own file system: writes past it fail (E_DISK_FULL, ENOSPC). */
  diskBytes?: number;
  createdBy: string;
  createdAt: number;
}

/** Where a workspace's commands see its files: in the local sandbox and in a Docker container alike. */
export const WORKSPACE_MOUNT = '/workspace';

export const workspaceNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
