import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../config/config-schema.js';

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

/**
 * OAuth discovery for clients that speak it (RFC 9728, as the MCP authorization spec asks):
 * every 401 names a protected-resource metadata document (`WWW-Authenticate: Bearer
 * resource_metadata="…"`), and that document names the configured JWT issuer as the
 * authorization server to get a token from. Without a JWT issuer the document still says
 * how to present a token (a bearer header) and names no authorization server: API tokens
 * come from `codebuddy token create`, not from an OAuth flow.
 *
 * Served for the origin the request reached (its Host, which the origin guard has vetted):
 * the path-aware document for `/mcp` (`…/oauth-protected-resource/mcp`) and the root one.
 */
export function registerProtectedResourceMetadata(fastify: FastifyInstance, config: Pick<Config, 'jwtIssuer'>): void {
  const document = (resource: string) => ({
    resource,
    ...(config.jwtIssuer ? { authorization_servers: [config.jwtIssuer] } : {}),
    bearer_methods_supported: ['header'],
    resource_name: 'CodeBuddy',
  });
  fastify.get(WELL_KNOWN, { config: { public: true } }, async (request) => document(`${originOf(request)}/`));
  fastify.get(`${WELL_KNOWN}/mcp`, { config: { public: true } }, async (request) => document(`${originOf(request)}/mcp`));
}

/** The `WWW-Authenticate` value of a 401: the metadata document of the resource the request asked for. */
export function bearerChallenge(request: FastifyRequest): string {
  const path = request.url.split('?')[0] === '/mcp' ? `${WELL_KNOWN}/mcp` : WELL_KNOWN;
  return `Bearer realm="codebuddy", resource_metadata="${originOf(request)}${path}"`;
}

function originOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}
