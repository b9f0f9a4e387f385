/** A directory of files plus the runtime its commands run in. */
export interface Workspace {
  id: string;
  tenantId: string;
  name: string;
  /** Absolute, symlink-free path of the workspace directory on the host. */
  root: string;
  /** Adopted directories belong to the user: deleting the workspace never deletes them. */
  adopted: boolean;
  runtime: 'local';
  status: string;
  createdBy: string;
  createdAt: number;
}

export const workspaceNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
