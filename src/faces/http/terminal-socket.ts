import type { FastifyInstance } from 'fastify';
import type { App } from '../../app.js';
import { toCodeBuddyError } from '../../core/errors.js';

/**
 * `/ws/terminals/:id`: humans watching a terminal live. The stream is the terminal's raw
 * output (what xterm.js writes as is): first what it kept, then every new byte, to any number
 * of viewers; when the terminal ends (its program exits, or it is closed) the socket is closed
 * with 1000 and a reason that says which. Authenticated like every route, by the server's hook (bearer header, or
 * `?token=` for browsers, which cannot set headers on a WebSocket), and tenant-scoped; a
 * failed authentication is answered here, as close code 4401. Read-only: typing into an
 * agent's terminal from outside would go around the action log.
 */
export function registerTerminalSocket(fastify: FastifyInstance, app: App): void {
  fastify.get('/ws/terminals/:id', { websocket: true, config: { socketAuth: true } }, async (socket, request) => {
    // 4xxx: application close codes; the HTTP status of the error, as a WebSocket code.
    if (!request.caller) return socket.close(4401, 'The token is missing, invalid or revoked.');
    try {
      const detach = app.terminals.attach(request.caller.principal, (request.params as { id: string }).id, {
        output: (data) => socket.send(data),
        // 1000, a normal closure: the terminal ended. Sent after every byte of its output (ws keeps the order).
        ended: (reason, exitCode) => socket.close(1000, `terminal ended: ${reason}${exitCode === null ? '' : `, exit ${exitCode}`}`.slice(0, 120)),
      });
      socket.on('close', detach);
      socket.on('message', () => undefined);
    } catch (error) {
      const failure = toCodeBuddyError(error);
      socket.close(failure.code === 'E_NOT_FOUND' ? 4404 : 4409, failure.message.slice(0, 120));
    }
  });
}
