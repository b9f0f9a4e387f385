import type { IncomingMessage, ServerResponse } from 'node:http';
import { createMcpHandler, isLegacyRequest, type AuthInfo, type McpHandlerRequestOptions } from '@modelcontextprotocol/server';
import type { Principal } from '../../auth/principal.js';
import type { Logger } from '../../core/logger.js';
import type { OperationRegistry } from '../../operations/registry.js';
import { toWebRequest, writeWebResponse } from '../http/web-exchange.js';
import { jsonRpcError } from './json-rpc-error.js';
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
  private readonly legacy: LegacySessionEndpoint;
  private readonly modern: ReturnType<typeof createMcpHandler>;
  private readonly onerror: (error: Error) => void;

  constructor(registry: OperationRegistry, logger: Logger, sessionLimits: SessionLimits) {
    const catalog = buildToolCatalog(registry);
    const serverFor = (principal: Principal) => createMcpServer(registry, catalog, { principal }, logger);
    this.onerror = (error: Error) => logger.warn({ err: error }, 'mcp http error');
    this.modern = createMcpHandler((context) => serverFor(principalOf(context.authInfo)), { legacy: 'reject', onerror: this.onerror });
    this.legacy = new LegacySessionEndpoint(serverFor, sessionLimits);
  }

  get legacySessions(): number {
    return this.legacy.size;
  }

  /** One HTTP exchange: `body` is the parsed JSON of a POST (undefined otherwise), `auth` the authenticated caller. */
  async handle(raw: IncomingMessage, res: ServerResponse, body: unknown, auth: AuthInfo): Promise<void> {
    const clientGone = new AbortController();
    res.once('close', () => clientGone.abort());
    let response: Response;
    try {
      const request = toWebRequest(raw, body, clientGone.signal);
      const options: McpHandlerRequestOptions = { authInfo: auth, ...(body === undefined ? {} : { parsedBody: body }) };
      response = (await isLegacyRequest(request, body)) ? await this.legacy.handle(request, options) : await this.modern.fetch(request, options);
    } catch (error) {
      this.onerror(error instanceof Error ? error : new Error(String(error)));
      response = jsonRpcError(500, -32603, 'Internal error');
    }
    await writeWebResponse(response, res, clientGone.signal);
  }

  close(): Promise<void> {
    return this.legacy.close();
  }
}
