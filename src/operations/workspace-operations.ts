import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { moreMarker } from '../core/more-marker.js';
import type { Workspace } from '../workspaces/workspace.js';
import type { WorkspaceService } from '../workspaces/workspace-service.js';
import type { TerminalService } from '../terminals/terminal-service.js';
import { subtreePaths } from '../files/subtree-paths.js';
import { tenantOperation, workspaceOperation, type Operation } from './operation.js';

const workspaceShape = z.object({
  id: z.string(),
  name: z.string(),
  root: z.string(),
  adopted: z.boolean(),
  runtime: z.string(),
  status: z.string(),
  status_reason: z.string().optional(),
  created_at: z.string(),
  container_id: z.string().optional(),
  disk_mb: z.number().optional(),
});

function describe(workspace: Workspace): z.infer<typeof workspaceShape> {
  return {
    id: workspace.id,
    name: workspace.name,
    root: workspace.root,
    adopted: workspace.adopted,
    runtime: workspace.runtime,
    status: workspace.status,
    ...(workspace.statusReason ? { status_reason: workspace.statusReason } : {}),
    created_at: new Date(workspace.createdAt).toISOString(),
    ...(workspace.containerId ? { container_id: workspace.containerId } : {}),
    ...(workspace.diskBytes ? { disk_mb: Math.round(workspace.diskBytes / 1024 / 1024) } : {}),
  };
}

const line = (w: z.infer<typeof workspaceShape>) => `${w.name} ${w.id} ${w.runtime} ${w.status}${w.status_reason ? ` (${w.status_reason})` : ''}${w.adopted ? ` adopted ${w.root}` : ''}${w.disk_mb ? ` disk ${w.disk_mb} MiB` : ''}`;

/** A workspace's id or name (workspace_list says so once, for every tool). */
const reference = z.string().min(1).max(200);

/** What runs for a workspace besides its commands and terminals, and must stop with it (its language servers). */
export interface WorkspaceProcesses {
  stopWorkspace(workspaceId: string): Promise<void>;
}

export function workspaceOperations(workspaces: WorkspaceService, terminals: TerminalService, pageSize: number, processes: WorkspaceProcesses): Operation[] {
  return [
    tenantOperation({
      name: 'workspace_create',
      title: 'Create workspace',
      description: 'Create a workspace: a new directory, or adopt one (path) under an allowed root.',
      effect: 'write',
      idempotent: false,
      destructive: false,
      input: z.object({
        name: z.string().min(1).max(64).describe('Unique; letters, digits . _ -'),
        path: z.string().min(1).max(4096).optional().describe('Directory to adopt'),
        runtime: z.enum(['local', 'docker']).optional(),
        image: z.string().min(1).max(1000).optional(),
        // Only lowers the server's caps; the registry and the service enforce the bounds.
        limits: z
          .strictObject({
            memory_mb: z.number().int().min(16).optional(),
            cpus: z.number().min(0.1).optional(),
            pids: z.number().int().min(8).optional(),
            network: z.boolean().optional(),
            disk_mb: z.number().int().min(16).optional().describe('Any runtime; not when adopting'),
          })
          .optional()
          .describe('Docker only, but disk_mb'),
      }),
      // A workspace just made runs: it has no status reason to tell.
      output: workspaceShape.omit({ status_reason: true }),
      async run(input, context, touch) {
        const workspace = await workspaces.create(context.principal, input);
        touch(workspace.id);
        return describe(workspace);
      },
      render: (w) => `created workspace ${line(w)}\nroot ${w.root}`,
    }),
    tenantOperation({
      name: 'workspace_list',
      title: 'List workspaces',
      description: 'List workspaces; any workspace field takes an id or a name.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({ cursor: z.string().optional() }),
      output: z.object({ workspaces: z.array(workspaceShape), next_cursor: z.string().optional() }),
      async run(input, context) {
        const after = input.cursor === undefined ? '' : decodeCursor<{ after: string }>('workspace_list', input.cursor).after;
        const rows = workspaces.list(context.principal, after, pageSize + 1);
        const page = rows.slice(0, pageSize).map(describe);
        return rows.length > pageSize ? { workspaces: page, next_cursor: encodeCursor('workspace_list', { after: page[page.length - 1]!.name }) } : { workspaces: page };
      },
      render: (out) =>
        (out.workspaces.length === 0 ? 'no workspaces' : out.workspaces.map(line).join('\n')) + moreMarker(out.next_cursor, `${out.workspaces.length} shown`),
    }),
    tenantOperation({
      name: 'workspace_get',
      title: 'Get workspace',
      description: 'Show one workspace.',
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({ workspace: reference.optional().describe('Default if omitted') }),
      output: workspaceShape,
      async run(input, context, touch) {
        const workspace = workspaces.resolve(context.principal, input.workspace, context.defaultWorkspaceId);
        touch(workspace.id);
        return describe(workspace);
      },
      render: (w) => `${line(w)}\nroot ${w.root}\ncreated ${w.created_at}`,
    }),
    // Stop, start and delete act on an existing workspace: they are workspace operations, so
    // its policy judges them like any write (read-only refuses them, review holds them).
    ...(['stop', 'start'] as const).map((verb) =>
      workspaceOperation({
        name: `workspace_${verb}`,
        title: verb === 'stop' ? 'Stop workspace' : 'Start workspace',
        description: verb === 'stop' ? "Stop a Docker workspace's container (files stay)." : "Start a Docker workspace's container again.",
        effect: 'write',
        idempotent: true,
        destructive: verb === 'stop',
        input: z.object({}),
        output: workspaceShape,
        preview: async (_input, workspace) => ({ text: `${verb} the container of workspace ${workspace.name} (${workspace.id})`, bases: {} }),
        run: async (_input, workspace, context) => {
          // A stopped container takes its language servers with it: they go first, cleanly.
          if (verb === 'stop') await processes.stopWorkspace(workspace.id);
          return describe(await workspaces.setRunning(context.principal, workspace.id, verb === 'start'));
        },
        render: (w) => `${verb === 'stop' ? 'stopped' : 'started'} ${line(w)}`,
      }),
    ),
    workspaceOperation({
      name: 'workspace_delete',
      title: 'Delete workspace',
      description: 'Delete a workspace; an adopted directory is unregistered, never deleted.',
      effect: 'write',
      idempotent: false,
      destructive: true,
      // Named, never defaulted: deleting is not something to do to whichever workspace is implied.
      input: z.object({ workspace: reference }),
      output: z.object({ id: z.string(), name: z.string(), deleted_files: z.boolean() }),
      // Every file goes with a workspace CodeBuddy made: a path rule on any of them applies.
      policySubject: async (_input, workspace, needs) => {
        if (workspace.adopted || !needs.paths) return { paths: [] };
        const below = await subtreePaths(workspace.root, '');
        return below.complete ? { paths: below.paths } : { paths: below.paths, pathsComplete: false };
      },
      async preview(_input, workspace) {
        if (workspace.adopted) return { text: `unregister workspace ${workspace.name} (${workspace.id}); its directory ${workspace.root} is kept`, bases: {} };
        const below = await subtreePaths(workspace.root, '');
        const count = below.complete ? `${below.paths.length}` : `more than ${below.paths.length}`;
        return { text: `delete workspace ${workspace.name} (${workspace.id}) and its ${count} files and directories`, bases: {} };
      },
      async run(_input, workspace, context) {
        // Nothing of the workspace's keeps running while its files are removed.
        terminals.closeAllIn(workspace.tenantId, workspace.id);
        await processes.stopWorkspace(workspace.id);
        const { deletedFiles } = await workspaces.delete(context.principal, workspace.id);
        return { id: workspace.id, name: workspace.name, deleted_files: deletedFiles };
      },
      render: (out) => `deleted workspace ${out.name} (${out.id}); ${out.deleted_files ? 'its files were removed' : 'its directory was kept'}`,
    }),
  ];
}
