/**
 * OAuth discovery (issue 13, point 9): a 401 carries `WWW-Authenticate` with
 * `resource_metadata`, and the protected-resource metadata (RFC 9728) names the configured
 * JWT issuer, so OAuth-aware clients learn where to get a token. Read with the v1 SDK
 * client's own discovery functions, as an OAuth-aware client would.
 */
import { discoverOAuthProtectedResourceMetadata, extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initializeMessage, MCP_ACCEPT } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const ISSUER = 'https://login.example.com/realms/dev';

describe('OAuth protected-resource discovery', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer({ jwtSecret: 'x'.repeat(40), jwtIssuer: ISSUER })));
  afterAll(async () => server?.close());

  it('a 401 on /mcp points at the metadata, which names the JWT issuer', async () => {
    const refused = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: MCP_ACCEPT }, body: JSON.stringify(initializeMessage) });
    expect(refused.status).toBe(401);
    const { resourceMetadataUrl } = extractWWWAuthenticateParams(refused);
    expect(resourceMetadataUrl?.href).toBe(`http://127.0.0.1:${server.url.port}/.well-known/oauth-protected-resource/mcp`);
    const metadata = await discoverOAuthProtectedResourceMetadata(server.url, { resourceMetadataUrl: resourceMetadataUrl! });
    expect(metadata).toEqual({
      resource: `http://127.0.0.1:${server.url.port}/mcp`,
      authorization_servers: [ISSUER],
      bearer_methods_supported: ['header'],
      resource_name: 'CodeBuddy',
    });
  });

  it('the SDK finds the document by itself from the server URL (path-aware well-known), unauthenticated', async () => {
    const metadata = await discoverOAuthProtectedResourceMetadata(server.url);
    expect(metadata.authorization_servers).toEqual([ISSUER]);
  });

  it('a 401 elsewhere names the root document, which covers the whole server', async () => {
    const refused = await fetch(new URL('/api/actions', server.url), { headers: { authorization: 'Bearer cb_tok_wrong' } });
    expect(refused.status).toBe(401);
    const { resourceMetadataUrl } = extractWWWAuthenticateParams(refused);
    expect(resourceMetadataUrl?.pathname).toBe('/.well-known/oauth-protected-resource');
    const root = await (await fetch(resourceMetadataUrl!)).json();
    expect(root).toMatchObject({ resource: `http://127.0.0.1:${server.url.port}/`, authorization_servers: [ISSUER] });
  });

  it('without a JWT issuer the document names no authorization server (API tokens come from the CLI)', async () => {
    const plain = await startTestServer();
    try {
      const metadata = await (await fetch(new URL('/.well-known/oauth-protected-resource/mcp', plain.url))).json();
      expect(metadata).toEqual({ resource: `http://127.0.0.1:${plain.url.port}/mcp`, bearer_methods_supported: ['header'], resource_name: 'CodeBuddy' });
    } finally {
      await plain.close();
    }
  });
});
