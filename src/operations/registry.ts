import { z } from 'zod';
import { CodeBuddyError } from '../core/errors.js';
import type { Ledger } from '../ledger/ledger.js';
import type { WorkspaceService } from '../workspaces/workspace-service.js';
import type { CallContext, Operation } from './operation.js';

const workspaceField = z.string().min(1).max(200).optional().describe('Id or name; default if omitted');

export interface OperationResult {
  actionId: string;
  output: Record<string, unknown>;
  text: string;
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
      const input = operation.scope === 'workspace' ? operation.input.extend({ workspace: workspaceField }) : operation.input;
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

    const request = { operation: name, effect: operation.effect, principal: context.principal, correlationId: context.correlationId, arguments: args };
    const { actionId, result } = await this.ledger.run(request, async (draft) => {
      const parsed = parseArguments(input, args ?? {});
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
    return { actionId, ...result };
  }
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
