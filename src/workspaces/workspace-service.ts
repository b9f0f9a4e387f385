import { mkdir, realpath, rm, stat } from 'node:fs/promises';
import { basename, join, sep } from 'node:path';
import type { Clock } from '../core/clock.js';
import { CodeBuddyError } from '../core/errors.js';
import type { IdGenerator } from '../core/ids.js';
import type { Principal } from '../auth/principal.js';
import type { TenantRepository } from '../store/tenant-repository.js';
import type { WorkspaceRepository, WorkspaceRow } from '../store/workspace-repository.js';
import { workspaceNamePattern, type Workspace } from './workspace.js';

export interface WorkspaceServiceOptions {
  /** Absolute, symlink-free data directory; new workspaces are made under `<dataDir>/workspaces`. */
  dataDir: string;
  /** Directories under which existing directories may be adopted. */
  allowedRoots: readonly string[];
}

function toWorkspace(row: WorkspaceRow): Workspace {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    root: row.root_path,
    adopted: row.adopted === 1,
    runtime: 'local',
    status: row.status,
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
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

  constructor(
    private readonly repository: WorkspaceRepository,
    private readonly tenants: TenantRepository,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly options: WorkspaceServiceOptions,
  ) {}

  /** A new empty directory, or an existing directory under an allowed root. */
  async create(principal: Principal, input: { name: string; path?: string }): Promise<Workspace> {
    this.assertNameFree(principal.tenantId, input.name);
    const id = this.ids.next('ws');
    if (input.path === undefined) {
      const root = join(this.options.dataDir, 'workspaces', principal.tenantId, id);
      await mkdir(root, { recursive: true });
      return this.register(principal, { id, name: input.name, root: await realpath(root), adopted: false });
    }
    // Until the path is known to lie under an allowed root, every failure answers alike:
    // telling "missing" from "a file" from "forbidden" would let a tenant map the host.
    const real = await realpath(input.path).catch(() => undefined);
    if (real === undefined || !(await this.isUnderAllowedRoot(real))) {
      throw new CodeBuddyError('E_FORBIDDEN', `${input.path} is not a directory under an allowed root (an operator lists them in CODEBUDDY_ALLOWED_ROOTS)`, { field: 'path' });
    }
    const root = await this.existingDirectory(real);
    return this.register(principal, { id, name: input.name, root, adopted: true });
  }

  /**
   * Adopts a directory named by the local user on the command line (`serve --stdio
   * --workspace PATH`): no allowed-root check, and the same directory maps to the same
   * workspace across restarts.
   */
  async adoptLocal(principal: Principal, path: string): Promise<Workspace> {
    const root = await this.existingDirectory(path);
    const existing = this.repository.findByRoot(principal.tenantId, root);
    if (existing) return toWorkspace(existing);
    const stem = basename(root).replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 48) || 'workspace';
    let name = stem;
    for (let n = 2; this.repository.findByName(principal.tenantId, name); n++) name = `${stem}-${n}`;
    return this.register(principal, { id: this.ids.next('ws'), name, root, adopted: true });
  }

  list(principal: Principal, afterName: string, limit: number): Workspace[] {
    return this.repository.list(principal.tenantId, afterName, limit).map(toWorkspace);
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
      if (candidates.length === 1) return toWorkspace(candidates[0]!);
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
    return toWorkspace(byName);
  }

  /** Unregisters the workspace; deletes its directory only when CodeBuddy created it. */
  async delete(principal: Principal, reference: string): Promise<{ workspace: Workspace; deletedFiles: boolean }> {
    const workspace = this.resolve(principal, reference);
    this.byId.delete(`${principal.tenantId}\0${workspace.id}`);
    this.repository.delete(principal.tenantId, workspace.id);
    if (!workspace.adopted) await rm(workspace.root, { recursive: true, force: true });
    return { workspace, deletedFiles: !workspace.adopted };
  }

  private findCachedById(tenantId: string, id: string): Workspace | undefined {
    const key = `${tenantId}\0${id}`;
    let workspace = this.byId.get(key);
    if (!workspace) {
      const row = this.repository.findById(tenantId, id);
      if (!row) return undefined;
      workspace = toWorkspace(row);
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

  private register(principal: Principal, input: { id: string; name: string; root: string; adopted: boolean }): Workspace {
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
      runtime: 'local',
      status: 'ready',
      created_by: principal.userId,
      created_at: now,
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
