import type { z } from 'zod';
import type { Logger } from '../core/logger.js';
import type { Principal, Role } from '../auth/principal.js';
import type { ChangePreview } from '../files/change-preview.js';
import type { Effect } from '../ledger/ledger.js';
import type { PolicySubject } from '../ledger/policy.js';
import type { Workspace } from '../workspaces/workspace.js';

/** What every call carries besides its arguments. */
export interface CallContext {
  /** Reports progress of a long call to the caller, where the face can (MCP progress notifications). */
  progress?: (progress: number, message: string) => void;
  principal: Principal;
  correlationId: string;
  signal: AbortSignal;
  logger: Logger;
  /** The workspace used when a call omits `workspace` (stdio `--workspace`). */
  defaultWorkspaceId?: string;
  /** An idempotency key from the transport (HTTP `Idempotency-Key`), used when the arguments carry none. */
  idempotencyKey?: string;
  /**
   * The canonical paths the workspace's path rules judged this call by, when they judged it:
   * a write that would now land elsewhere (a link swapped in since) is refused, not done.
   */
  judgedPaths?: readonly string[];
  /** The action this call is recorded as, so what it changes can name it. */
  actionId?: string;
  /**
   * For a held call being applied after approval: the base versions its preview showed the
   * approver. An operation that computes its change again refuses one not based on them.
   */
  approvedBases?: Record<string, string | null>;
}

/**
 * A resource route an operation is also served at over REST, besides the
 * `POST /api/ops/<name>` every operation has (`GET /api/notes/{id}` for `note_get`). Each
 * `{field}` segment is an input field; a GET takes the rest of its input from the query
 * string, a POST from its JSON body. The REST face and its OpenAPI document are generated
 * from these: no route is written by hand.
 */
export interface RestRoute {
  method: 'GET' | 'POST';
  path: `/api/${string}`;
}

interface OperationBase<I extends z.ZodObject, O extends z.ZodObject> {
  name: string;
  /** A short human name (`Read file`): what hosts show people in place of the tool's name. */
  title: string;
  /** One line: agents pay for every word of it on every session. */
  description: string;
  effect: Effect;
  /** Calling twice with the same arguments has no further effect. */
  idempotent: boolean;
  /**
   * May change or remove what is already there, not only add to it (MCP's `destructiveHint`):
   * an overwrite, an edit, a delete, a command typed into a shell.
   */
  destructive: boolean;
  /** Runs programs that may reach past the workspace, onto the network where the runtime allows it (MCP's `openWorldHint`). */
  openWorld?: boolean;
  input: I;
  output: O;
  /** The effect of one call when it depends on its arguments (a dry run is a read); default `effect`. */
  effectOf?(args: Record<string, unknown>): Effect;
  /** The compact text an agent reads; the structured output goes alongside it. */
  render(output: z.output<O>): string;
  /** Only these roles may call it (default: every role). */
  roles?: readonly Role[];
  /** Where it is served as a resource over REST too (it always is at `POST /api/ops/<name>`). */
  rest?: RestRoute;
  /**
   * Whether an output tells of a call its caller cancelled, which stopped short (a command
   * killed on cancellation): the action is then recorded as `cancelled`, not `succeeded`.
   */
  wasCancelled?(output: z.output<O>): boolean;
}

/** An operation that acts inside one workspace: the registry resolves `workspace` (id or name) for it. */
export interface WorkspaceOperation<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> extends OperationBase<I, O> {
  scope: 'workspace';
  run(input: z.output<I>, workspace: Workspace, context: CallContext): Promise<z.output<O>>;
  /**
   * For calls that name something inside a workspace (a terminal) rather than the
   * workspace: the id of the workspace it belongs to. The call then takes no `workspace`
   * argument, and is judged by that workspace's policy like any other.
   */
  workspaceOf?(input: z.output<I>, principal: Principal): string;
  /**
   * What a workspace policy judges a call by: the paths it would touch (resolved, so a
   * symlink cannot lead a call around a rule) and, for commands, the command line.
   */
  policySubject?(input: z.output<I>, workspace: Workspace, needs: { paths: boolean }): Promise<Omit<PolicySubject, 'operation' | 'effect'>>;
  /**
   * What the call would change, computed without changing it. An operation with a preview
   * can be held for approval; applying it later re-computes the preview to refuse a stale one.
   */
  preview?(input: z.output<I>, workspace: Workspace): Promise<ChangePreview>;
}

/** An operation on the tenant as a whole (listing or creating workspaces). */
export interface TenantOperation<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> extends OperationBase<I, O> {
  scope: 'tenant';
  /** The workspace the call concerns, when it has one, for the action record. */
  run(input: z.output<I>, context: CallContext, touch: (workspaceId: string) => void): Promise<z.output<O>>;
}

export type Operation = WorkspaceOperation | TenantOperation;

/** Typed constructors: they check `run` against the schemas and erase the generics for the registry. */
export function workspaceOperation<I extends z.ZodObject, O extends z.ZodObject>(definition: Omit<WorkspaceOperation<I, O>, 'scope'>): Operation {
  return { scope: 'workspace', ...definition } as unknown as Operation;
}

export function tenantOperation<I extends z.ZodObject, O extends z.ZodObject>(definition: Omit<TenantOperation<I, O>, 'scope'>): Operation {
  return { scope: 'tenant', ...definition } as unknown as Operation;
}
