import { randomUUID } from 'node:crypto';
import type { App } from '../app.js';
import type { Principal } from '../auth/principal.js';
import { localPrincipal } from './serve-command.js';

/**
 * Runs one operation as the local operator: an admin of the given tenant. The CLI is a
 * face like the others: the call goes through the registry and is recorded.
 */
export async function runAsOperator(app: App, tenantId: string, operation: string, args: Record<string, unknown>): Promise<string> {
  const principal: Principal = { tenantId, userId: localPrincipal().userId, role: 'admin' };
  const correlationId = randomUUID();
  const result = await app.registry.invoke(operation, args, {
    principal,
    correlationId,
    signal: new AbortController().signal,
    logger: app.logger.child({ correlationId }),
  });
  return result.text;
}
