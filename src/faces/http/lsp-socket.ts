import type { FastifyInstance } from 'fastify';
import { createMessageConnection } from 'vscode-jsonrpc';
import type { App } from '../../app.js';
import { toCodeBuddyError } from '../../core/errors.js';
import { SocketMessageReader, SocketMessageWriter } from '../lsp/socket-transport.js';

/** How often a connected editor's credential is checked again. */
const CREDENTIAL_CHECK_MS = 5_000;

/**
 * `/lsp/:workspace`: the LSP facade over a WebSocket (one JSON-RPC message per text frame), for
 * editors connecting to a remote CodeBuddy. Authenticated, Host/Origin-checked and
 * rate-limited by the server's hooks like every route (a bearer header, or `?token=` for
 * clients that cannot set headers); a failed authentication is answered on the socket as close
 * code 4401, a workspace the caller's tenant does not have (missing or another tenant's,
 * alike) as 4404, a credential revoked or expired meanwhile as 4401 within seconds. The editor acts as its token's principal: approving from the editor needs
 * an approver or admin token, exactly as on MCP.
 */
export function registerLspSocket(fastify: FastifyInstance, app: App): void {
  fastify.get('/lsp/:workspace', { websocket: true, config: { socketAuth: true } }, (socket, request) => {
    if (!request.caller) return socket.close(4401, 'The token is missing, invalid or revoked.');
    const { principal } = request.caller;
    let workspace;
    try {
      workspace = app.workspaces.resolve(principal, (request.params as { workspace: string }).workspace);
    } catch (error) {
      return socket.close(4404, toCodeBuddyError(error).message.slice(0, 120));
    }
    const connection = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
    const session = app.lsp.connect(connection, principal, workspace);
    session.onClosed = () => socket.close(1000, 'exit');
    // An editor stays connected for hours: a revoked or expired credential ends it, as it ends MCP sessions.
    const { credential } = request.caller;
    const sweep = setInterval(() => {
      if (!app.authenticator.isCurrent(credential)) socket.close(4401, 'The token was revoked or has expired.');
    }, CREDENTIAL_CHECK_MS);
    sweep.unref();
    socket.on('close', () => {
      clearInterval(sweep);
      session.close();
    });
  });
}
