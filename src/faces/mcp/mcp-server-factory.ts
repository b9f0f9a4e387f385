import { ProtocolError, ProtocolErrorCode, Server, TRACEPARENT_META_KEY } from '@modelcontextprotocol/server';
import { correlationIdOf } from '../../core/correlation.js';
import type { Principal } from '../../auth/principal.js';
import { toCodeBuddyError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { OperationRegistry } from '../../operations/registry.js';
import { toolsFor, type CatalogEntry } from './tool-catalog.js';

export const SERVER_INFO = { name: 'codebuddy', version: '0.1.0' };

export interface McpBinding {
  principal: Principal;
  /** The workspace a call that omits `workspace` uses (stdio `--workspace`). */
  defaultWorkspaceId?: string;
}

/**
 * Builds one MCP server instance bound to one principal. The tools are the registry's
 * operations; the server holds no domain logic: it validates nothing itself, calls the
 * registry and shapes the answer (compact text + structuredContent, or an error result
 * whose text starts with the stable code).
 */
export function createMcpServer(registry: OperationRegistry, catalog: readonly CatalogEntry[], binding: McpBinding, logger: Logger): Server {
  const server = new Server(SERVER_INFO, {
    capabilities: { tools: { listChanged: false } },
    instructions: 'Workspace files for coding agents. Paths are relative to the workspace root. Paged answers end with a cursor line.',
  });

  const tools = toolsFor(catalog, binding.principal.role);
  // One page holds every tool, so no cursor was ever handed out: any cursor is invalid (the spec's -32602).
  server.setRequestHandler('tools/list', (request) => {
    if (request.params?.cursor !== undefined) throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid cursor: the tool list has one page and no cursor');
    return { tools };
  });

  server.setRequestHandler('tools/call', async (request, ctx) => {
    const { name, arguments: args, _meta } = request.params;
    const meta = _meta as Record<string, unknown> | undefined;
    const correlationId = correlationIdOf(meta?.[TRACEPARENT_META_KEY] ?? meta?.traceparent, ctx.http?.req?.headers);
    const idempotencyKey = ctx.http?.req?.headers.get('idempotency-key') ?? undefined;
    const progressToken = meta?.progressToken as string | number | undefined;
    const progress =
      progressToken === undefined
        ? undefined
        : (value: number, message: string) => {
            void ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress: value, message } }).catch(() => undefined);
          };
    try {
      const { actionId, output, text, replayOf } = await registry.invoke(name, args ?? {}, {
        principal: binding.principal,
        correlationId,
        signal: ctx.mcpReq.signal,
        logger: logger.child({ correlationId }),
        ...(binding.defaultWorkspaceId ? { defaultWorkspaceId: binding.defaultWorkspaceId } : {}),
        ...(idempotencyKey ? { idempotencyKey } : {}),
        ...(progress ? { progress } : {}),
      });
      return {
        content: [{ type: 'text' as const, text }],
        structuredContent: output,
        _meta: { 'codebuddy/action_id': actionId, 'codebuddy/correlation_id': correlationId, ...(replayOf ? { 'codebuddy/replay_of': replayOf } : {}) },
      };
    } catch (error) {
      // An unknown tool is a protocol error (-32602), as the spec's tool error handling says;
      // the registry has recorded the attempt all the same. A tool the role may not call is
      // known: its refusal is a result, with the code an agent can act on.
      if (!registry.has(name)) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name.slice(0, 100)}`);
      const failure = toCodeBuddyError(error);
      return {
        isError: true,
        content: [{ type: 'text' as const, text: `${failure.code}: ${failure.message}` }],
        _meta: { 'codebuddy/error': { code: failure.code, ...(failure.details ?? {}) }, 'codebuddy/correlation_id': correlationId },
      };
    }
  });

  return server;
}
