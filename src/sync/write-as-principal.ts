import { randomUUID } from 'node:crypto';
import type { Principal } from '../auth/principal.js';
import type { Logger } from '../core/logger.js';
import type { OperationRegistry } from '../operations/registry.js';

/**
 * A human's edit from a sync client, made as that principal's own call of a write operation
 * through the registry: policy, proposals, idempotency and the audit trail apply exactly as
 * to any call of theirs. Answers the operation's output, or that it was held for approval.
 */
export type WriteAsPrincipal = (principal: Principal, operation: string, args: Record<string, unknown>) => Promise<WriteOutcome>;

export type WriteOutcome = { actionId: string; held: true } | { actionId: string; held: false; output: Record<string, unknown> };

export async function writeAsPrincipal(
  registry: OperationRegistry,
  logger: Logger,
  principal: Principal,
  operation: string,
  args: Record<string, unknown>,
): Promise<WriteOutcome> {
  const result = await registry.invoke(operation, args, {
    principal,
    // `sync:` marks the calls that carry a human's edits from a sync client.
    correlationId: `sync:${randomUUID()}`,
    signal: new AbortController().signal,
    logger,
  });
  const output = result.output as Record<string, unknown>;
  return output.status === 'pending_approval' ? { actionId: result.actionId, held: true } : { actionId: result.actionId, held: false, output };
}
