import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The HTTP server's sockets, and which of them carry a request in flight, for a shutdown that
 * is graceful but bounded. `server.close()` waits for every socket to end, and Node's
 * `closeIdleConnections()` (what fastify calls) closes only sockets that finished a request:
 * a socket that connected and sent nothing yet, or only part of its headers (a browser's
 * speculative connection, a client's pool, anyone on purpose), counts as busy and held
 * shutdown for good (over 150 s measured, plain fastify 5 on Node 20). Here a socket is
 * busy only from a request's headers to its answer's end: the others are closed at once, the
 * busy ones when the server's grace for calls in flight is over. Upgraded sockets (WebSockets) leave this
 * set at the upgrade: the WebSocket server closes them.
 */
export class ConnectionDrain {
  private readonly sockets = new Set<Socket>();
  private readonly inFlight = new Map<Socket, number>();
  private closing = false;

  constructor(server: Server) {
    server.on('connection', (socket: Socket) => {
      // Accepted between the listener closing and the server noticing: nothing will serve it.
      if (this.closing) return void socket.destroy();
      this.sockets.add(socket);
      socket.once('close', () => {
        this.sockets.delete(socket);
        this.inFlight.delete(socket);
      });
    });
    server.on('request', (request, response) => {
      const socket = request.socket;
      this.inFlight.set(socket, (this.inFlight.get(socket) ?? 0) + 1);
      response.once('close', () => {
        const left = (this.inFlight.get(socket) ?? 1) - 1;
        if (left > 0) this.inFlight.set(socket, left);
        else this.inFlight.delete(socket);
        // The answer is out (end() lets it flush); a keep-alive socket would now idle until the client's next request.
        if (this.closing && left <= 0) socket.end();
      });
    });
    server.on('upgrade', (request) => {
      this.sockets.delete(request.socket);
      this.inFlight.delete(request.socket);
    });
  }

  /** From now on, closes every socket as soon as no request is in flight on it, those idle now at once. */
  closeIdle(): void {
    this.closing = true;
    for (const socket of this.sockets) if (!this.inFlight.has(socket)) socket.destroy();
  }

  /** Closes every socket, requests in flight or not: the grace is over. */
  closeAll(): void {
    this.closing = true;
    for (const socket of this.sockets) socket.destroy();
  }
}
