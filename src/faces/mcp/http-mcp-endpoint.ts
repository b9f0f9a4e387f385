import { createMcpHandler, isLegacyRequest, type McpHandlerRequestOptions } from '@modelcontextprotocol/server';
import { toNodeHandler, type NodeMcpRequestHandler } from '@modelcontextprotocol/node';
import type { Principal } from '../../auth/principal.js';
import type { Logger } from '../../core/logger.js';
import type { OperationRegistry } from '../../operations/registry.js';
import { LegacySessionEndpoint, type SessionLimits } from './legacy-session-endpoint.js';
import { createMcpServer } from './mcp-server-factory.js';
import { principalOf } from './principal-auth-info.js';
import { buildToolCatalog } from './tool-catalog.js';

/**
 * One `/mcp` endpoint for both protocol eras: 2026-07-28 requests (per-request `_meta`
 * envelope, stateless) go to the SDK's modern handler; 2025-era traffic (`initialize`,
 * sessions) goes to the sessionful legacy endpoint. The SDK's own classifier decides.
 */
export class HttpMcpEndpoint {
  readonly handle: NodeMcpRequestHandler;
  private readonly legacy: LegacySessionEndpoint;

  constructor(registry: OperationRegistry, logger: Logger, sessionLimits: SessionLimits) {
    const catalog = buildToolCatalog(registry);
    const serverFor = (principal: Principal) => createMcpServer(registry, catalog, { principal }, logger);
    const onerror = (error: Error) => logger.warn({ err: error }, 'mcp http error');
    const modern = createMcpHandler((context) => serverFor(principalOf(context.authInfo)), { legacy: 'reject', onerror });
    this.legacy = new LegacySessionEndpoint(serverFor, sessionLimits);
    this.handle = toNodeHandler(
      {
        fetch: async (request: Request, options: McpHandlerRequestOptions = {}) =>
          (await isLegacyRequest(request, options.parsedBody)) ? this.legacy.handle(request, options) : modern.fetch(request, options),
      },
      { onerror },
    );
  }

  get legacySessions(): number {
    return this.legacy.size;
  }

  close(): Promise<void> {
    return this.legacy.close();
  }
}
