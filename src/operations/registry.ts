import { z } from 'zod';
import { CodeBuddyError } from '../core/errors.js';
import type { Ledger } from '../ledger/ledger.js';
import type { WorkspaceService } from '../workspaces/workspace-service.js';
import type { CallContext, Operation } from './operation.js';

const workspaceField = z.string().min(1).max(200).optional().describe('Id or name; default if omitted');
const idempotencyKeyPattern = /^[\w.:-]{1,200}$/;
// A refinement, not a regex: the format is enforced without a pattern costing tokens in every tool.
const idempotencyKeyField = z
  .string()
  .refine((key) => idempotencyKeyPattern.test(key), 'letters, digits, _ . : -, at most 200')
  .optional()
  .describe('Retries replay the first result');

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
  /** The full input schema, `workspace` included for workspace operations. */
  input: z.ZodObject;
}

/**
 * The one list of operations. Every face (MCP, REST, CLI) describes and invokes them
 * through here, so validation, workspace resolution and recording cannot differ by face.
 */
export class OperationRegistry {
  private readonly byName = new Map<string, OperationDescriptor>();

  constructor(
    operations: readonly Operation[],
    private readonly ledger: Ledger,
    private readonly workspaces: WorkspaceService,
  ) {
    for (const operation of operations) {
      if (this.byName.has(operation.name)) throw new Error(`duplicate operation ${operation.name}`);
      let input = operation.scope === 'workspace' ? operation.input.extend({ workspace: workspaceField }) : operation.input;
      // Reads have no effect to repeat: only calls that change something take a key.
      if (operation.effect !== 'read') input = input.extend({ idempotency_key: idempotencyKeyField });
      this.byName.set(operation.name, { operation, input: input.strict() });
    }
  }

  list(): OperationDescriptor[] {
    return [...this.byName.values()];
  }

  async invoke(name: string, args: unknown, context: CallContext): Promise<OperationResult> {
    const descriptor = this.byName.get(name);
    if (!descriptor) throw new CodeBuddyError('E_NOT_FOUND', `unknown operation ${name}`);
    const { operation, input } = descriptor;

    const idempotencyKey = operation.effect === 'read' ? undefined : idempotencyKeyOf(args, context);
    const request = { operation: name, effect: operation.effect, principal: context.principal, correlationId: context.correlationId, arguments: args, ...(idempotencyKey ? { idempotencyKey } : {}) };
    const { actionId, result, replayOf } = await this.ledger.run(request, async (draft) => {
      const { idempotency_key: _key, ...parsed } = parseArguments(input, args ?? {});
      let output: Record<string, unknown>;
      if (operation.scope === 'workspace') {
        const { workspace: reference, ...rest } = parsed as { workspace?: string };
        const workspace = this.workspaces.resolve(context.principal, reference, context.defaultWorkspaceId);
        draft.workspaceId = workspace.id;
        output = await operation.run(rest, workspace, context);
      } else {
        output = await operation.run(parsed, context, (workspaceId) => (draft.workspaceId = workspaceId));
      }
      const text = operation.render(output);
      return { result: { output, text }, summary: firstLine(text) };
    });
    return { actionId, ...result, ...(replayOf ? { replayOf } : {}) };
  }
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
