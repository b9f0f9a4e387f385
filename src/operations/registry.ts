import { z } from 'zod';
import { CodeBuddyError, toCodeBuddyError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Principal } from '../auth/principal.js';
import type { Ledger } from '../ledger/ledger.js';
import type { PolicyService } from '../ledger/policy-service.js';
import { decide, judgesPaths } from '../ledger/policy.js';
import type { ProposalService } from '../ledger/proposal-service.js';
import type { ProposalRow } from '../store/proposal-repository.js';
import type { WorkspaceService } from '../workspaces/workspace-service.js';
import type { Workspace } from '../workspaces/workspace.js';
import type { CallContext, Operation, WorkspaceOperation } from './operation.js';

const workspaceField = z.string().min(1).max(200).optional();
/** A well-formed idempotency key; a face taking one from its transport refuses others. */
export const idempotencyKeyPattern = /^[\w.:-]{1,200}$/;
// A refinement, not a regex: the format is enforced without a pattern costing tokens in every tool.
const idempotencyKeyField = z
  .string()
  .refine((key) => idempotencyKeyPattern.test(key), 'letters, digits, _ . : -, at most 200')
  .optional();

/** The answer of a call held for a human decision, instead of the operation's own output. */
export const pendingOutput = z.object({
  status: z.literal('pending_approval'),
  action_id: z.string(),
  preview: z.string(),
  expires_at: z.string(),
});

export interface OperationResult {
  actionId: string;
  output: Record<string, unknown>;
  text: string;
  /** The action whose stored result this is, when the call replayed an idempotency key. */
  replayOf?: string;
}

/** What a face needs to describe an operation. */
export interface OperationDescriptor {
  operation: Operation;
  /** The full input schema, `workspace` and `idempotency_key` included where they apply. */
  input: z.ZodObject;
  /** The output as a caller may see it: the operation's, or a pending answer where calls can be held. */
  output: z.ZodType;
}

/** A call that passed authorization: its parsed input, its workspace, and whether it must be held. */
type AuthorizedCall =
  | { operation: Extract<Operation, { scope: 'tenant' }>; input: Record<string, unknown>; hold: false; workspace?: undefined; judgedPaths?: undefined }
  | { operation: WorkspaceOperation; input: Record<string, unknown>; workspace: Workspace; hold: boolean; judgedPaths?: readonly string[] };

/** The domain services the registry orchestrates for every call. */
export interface RegistryServices {
  ledger: Ledger;
  workspaces: WorkspaceService;
  policies: PolicyService;
  proposals: ProposalService;
  logger: Logger;
}

function renderPending(output: z.infer<typeof pendingOutput>): string {
  return `held for approval as ${output.action_id} (expires ${output.expires_at}); action_wait {"id":"${output.action_id}"} returns the outcome\n${output.preview}`;
}

function sameBases(a: Record<string, string | null>, b: Record<string, string | null>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => key in b && a[key] === b[key]);
}

/**
 * The one list of operations. Every face (MCP, REST, CLI) describes and invokes them
 * through here, so validation, roles, workspace resolution, workspace policy and recording
 * cannot differ by face.
 */
export class OperationRegistry {
  private readonly byName = new Map<string, OperationDescriptor>();
  /** Calls not yet recorded as done: shutdown waits for them before the database closes. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    operations: readonly Operation[],
    private readonly services: RegistryServices,
  ) {
    for (const operation of operations) {
      if (this.byName.has(operation.name)) throw new Error(`duplicate operation ${operation.name}`);
      // An operation may declare `workspace` itself (required, for a delete): the registry resolves it all the same.
      const addsWorkspace = operation.scope === 'workspace' && !operation.workspaceOf && !('workspace' in operation.input.shape);
      let input = addsWorkspace ? operation.input.extend({ workspace: workspaceField }) : operation.input;
      // Reads have no effect to repeat: only calls that change something take a key.
      if (operation.effect !== 'read') input = input.extend({ idempotency_key: idempotencyKeyField });
      this.byName.set(operation.name, { operation, input: input.strict(), output: canBeHeld(operation) ? z.union([operation.output, pendingOutput]) : operation.output });
    }
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  list(): OperationDescriptor[] {
    return [...this.byName.values()];
  }

  invoke(name: string, args: unknown, context: CallContext): Promise<OperationResult> {
    const call = this.invokeRecorded(name, args, context);
    this.inFlight.add(call);
    void call.finally(() => this.inFlight.delete(call)).catch(() => undefined);
    return call;
  }

  /**
   * Resolves once every call in flight has finished and been recorded (true), or when
   * `timeoutMs` has passed (false). Shutdown waits on it twice: to give calls in flight a
   * grace, and after cutting off the rest (which cancels them), so that they are recorded
   * as cancelled before the database closes rather than left `running`.
   */
  async settled(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([Promise.allSettled([...this.inFlight]).then(() => true as const), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async invokeRecorded(name: string, args: unknown, context: CallContext): Promise<OperationResult> {
    // Before anything walks them recursively (recording, redaction, validation) and overflows the stack.
    if (nestedDeeperThan(args, MAX_ARGUMENT_DEPTH)) {
      const refusal = new CodeBuddyError('E_INVALID_ARGUMENT', `the arguments are nested deeper than ${MAX_ARGUMENT_DEPTH} levels`, { field: '(arguments)' });
      return this.refuse(name, { not_recorded: `nested deeper than ${MAX_ARGUMENT_DEPTH} levels` }, context, refusal);
    }
    const descriptor = this.byName.get(name);
    if (!descriptor) return this.refuse(name, args, context, new CodeBuddyError('E_NOT_FOUND', `unknown operation ${name.slice(0, 100)}`));
    const { operation } = descriptor;

    const effect = effectOf(operation, args);
    const idempotencyKey = effect === 'read' ? undefined : idempotencyKeyOf(args, context);
    const request = { operation: name, effect, principal: context.principal, correlationId: context.correlationId, arguments: args, ...(idempotencyKey ? { idempotencyKey } : {}) };
    const { actionId, result, replayOf } = await this.services.ledger.run(request, {
      // Everything that may refuse the call runs before its idempotency key is looked at.
      authorize: (draft) => this.authorize(descriptor, args, context, draft),
      perform: async (call, draft) => {
        if (call.operation.scope === 'tenant') {
          return this.outcome(call.operation, await call.operation.run(call.input, context, (workspaceId) => (draft.workspaceId = workspaceId)));
        }
        if (call.hold) return this.hold(call.operation, call.input, call.workspace!, context.principal, draft.id);
        const recorded = { ...context, actionId: draft.id, ...(call.judgedPaths ? { judgedPaths: call.judgedPaths } : {}) };
        return this.outcome(call.operation, await call.operation.run(call.input, call.workspace!, recorded));
      },
    });
    return { actionId, ...result, ...(replayOf ? { replayOf } : {}) };
  }

  /**
   * The role, the arguments, the workspace (within the caller's tenant) and its policy: a
   * call refused here has no effect and leaves no idempotency outcome. A `review` verdict
   * is not a refusal: the call goes on to be held.
   */
  private async authorize(descriptor: OperationDescriptor, args: unknown, context: CallContext, draft: { workspaceId: string | null }): Promise<AuthorizedCall> {
    const { operation, input } = descriptor;
    const name = operation.name;
    if (operation.roles && !operation.roles.includes(context.principal.role)) {
      throw new CodeBuddyError('E_FORBIDDEN', `${name} needs the ${operation.roles.join(' or ')} role; this token has ${context.principal.role}`);
    }
    const { idempotency_key: _key, ...parsed } = parseArguments(input, args ?? {});
    if (operation.scope === 'tenant') return { operation, input: parsed, hold: false };
    const { workspace: named, ...rest } = parsed as { workspace?: string };
    const reference = operation.workspaceOf ? operation.workspaceOf(rest, context.principal) : named;
    const workspace = this.services.workspaces.resolve(context.principal, reference, context.defaultWorkspaceId);
    draft.workspaceId = workspace.id;
    // Reads always run and admin operations answer to roles: only writes and exec consult the policy.
    const effect = effectOf(operation, rest);
    if (effect !== 'write' && effect !== 'exec') return { operation, input: rest, workspace, hold: false };
    const policy = this.services.policies.get(context.principal.tenantId, workspace.id);
    const subject = (await operation.policySubject?.(rest, workspace, { paths: judgesPaths(policy) })) ?? { paths: [] };
    const verdict = decide(policy, { operation: name, effect, ...subject });
    if (verdict.decision === 'deny') {
      throw new CodeBuddyError('E_FORBIDDEN', `the policy of workspace ${workspace.name} denies ${name} (${verdict.because})`);
    }
    // Where path rules decided, the operation learns which paths they judged: it refuses to act elsewhere.
    return { operation, input: rest, workspace, hold: verdict.decision === 'review', ...(judgesPaths(policy) ? { judgedPaths: subject.paths } : {}) };
  }

  /**
   * Performs a held call after its approval. Its preview is computed again first: if what
   * it was based on changed, or it no longer applies at all, it is refused as stale.
   */
  async runHeld(proposal: ProposalRow): Promise<{ output: Record<string, unknown>; text: string }> {
    const operation = this.byName.get(proposal.operation)?.operation;
    if (operation?.scope !== 'workspace' || !operation.preview) throw new Error(`${proposal.operation} cannot be held`);
    const principal: Principal = { tenantId: proposal.tenant_id, userId: proposal.requested_by.slice(proposal.tenant_id.length + 1), role: 'agent' };
    const workspace = this.services.workspaces.resolve(principal, proposal.workspace_id);
    const input = JSON.parse(proposal.arguments_json) as Record<string, unknown>;
    const base = JSON.parse(proposal.base_versions_json) as Record<string, string | null>;
    const now = await operation.preview(input, workspace).catch((error: unknown) => {
      throw new CodeBuddyError('E_STALE_PROPOSAL', `the change no longer applies: ${toCodeBuddyError(error).message}`);
    });
    if (!sameBases(base, now.bases)) {
      const changed = Object.keys(base).filter((path) => base[path] !== now.bases[path]);
      throw new CodeBuddyError('E_STALE_PROPOSAL', `${changed.join(', ')} changed after the proposal was made; it was not applied`, { changed });
    }
    const output = await operation.run(input, workspace, {
      principal,
      correlationId: proposal.action_id,
      actionId: proposal.action_id,
      signal: new AbortController().signal,
      logger: this.services.logger.child({ actionId: proposal.action_id }),
      approvedBases: base,
    });
    return { output, text: operation.render(output) };
  }

  /**
   * A call refused before it is even looked at (no such operation, arguments too deep to
   * handle) is recorded like any failed call, with its caller. Nothing ran, so it is a read.
   */
  private async refuse(name: string, args: unknown, context: CallContext, refusal: CodeBuddyError): Promise<never> {
    const request = { operation: name.slice(0, 100), effect: 'read' as const, principal: context.principal, correlationId: context.correlationId, arguments: args };
    const refuse = () => Promise.reject(refusal);
    return this.services.ledger.run(request, { authorize: refuse, perform: refuse }) as Promise<never>;
  }

  private async hold(operation: WorkspaceOperation, input: Record<string, unknown>, workspace: Workspace, principal: Principal, actionId: string) {
    const preview = await operation.preview!(input, workspace);
    const proposal = this.services.proposals.hold({ principal, actionId, workspaceId: workspace.id, operation: operation.name, arguments: input, preview: preview.text, bases: preview.bases });
    const output = { status: 'pending_approval' as const, action_id: actionId, preview: preview.text, expires_at: new Date(proposal.expires_at).toISOString() };
    return { result: { output, text: renderPending(output) }, summary: 'held for approval', status: 'proposed' as const };
  }

  private outcome(operation: Operation, output: Record<string, unknown>) {
    const text = operation.render(output);
    return { result: { output, text }, summary: firstLine(text), ...(operation.wasCancelled?.(output) ? { status: 'cancelled' as const } : {}) };
  }
}

/** Whether a call of it may be held for approval (it answers `pendingOutput` then): a workspace operation with a preview. */
export function canBeHeld(operation: Operation): boolean {
  return operation.scope === 'workspace' && operation.preview !== undefined;
}

/** Whether an answer of `operation` is a held call's (`pendingOutput`) rather than the operation's own output. */
export function isHeldAnswer(operation: Operation, output: Record<string, unknown>): boolean {
  return canBeHeld(operation) && pendingOutput.safeParse(output).success;
}

/** Deeper than any input schema goes (a few levels), far short of what overflows a recursive walk. */
const MAX_ARGUMENT_DEPTH = 64;

/** Whether a JSON value nests objects or arrays deeper than `limit`: walked without recursion, so any depth is safe to ask about. */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node as object)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** What one call does: an operation may depend on its arguments for that (a dry run only reads). */
function effectOf(operation: Operation, args: unknown): Operation['effect'] {
  return operation.effectOf && args !== null && typeof args === 'object' ? operation.effectOf(args as Record<string, unknown>) : operation.effect;
}

/** The key in the arguments wins over the transport's; a malformed one is left to validation to refuse. */
function idempotencyKeyOf(args: unknown, context: CallContext): string | undefined {
  const fromArgs = (args as { idempotency_key?: unknown } | null)?.idempotency_key;
  if (typeof fromArgs === 'string') return idempotencyKeyPattern.test(fromArgs) ? fromArgs : undefined;
  return context.idempotencyKey !== undefined && idempotencyKeyPattern.test(context.idempotencyKey) ? context.idempotencyKey : undefined;
}

function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end === -1 ? text : text.slice(0, end);
}

/** Validation errors name the offending field so the agent can fix its call. */
export function parseArguments(schema: z.ZodObject, args: unknown): Record<string, unknown> {
  const result = schema.safeParse(args);
  if (result.success) return result.data as Record<string, unknown>;
  const issues = result.error.issues.map((issue) => {
    // An unknown key is reported by its own name: that is the field the agent must fix.
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys.join(',')] : issue.path;
    const message = issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message;
    return { field: path.length > 0 ? path.join('.') : '(arguments)', message };
  });
  const first = issues[0]!;
  const text = issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ');
  throw new CodeBuddyError('E_INVALID_ARGUMENT', `invalid argument ${text}`, { field: first.field, issues });
}
