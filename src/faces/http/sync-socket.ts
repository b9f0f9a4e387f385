import type { FastifyInstance } from 'fastify';
import type { App } from '../../app.js';
import { CloseCodes } from '../../sync/sync-room.js';
import { RoomRefusal } from '../../sync/room-refusal.js';
import type { SyncSession } from '../../sync/sync-service.js';

/**
 * `/sync/<room>`: the standard y-websocket protocol, so the stock `y-websocket` client and
 * the editor bindings built on it work unchanged (`new WebsocketProvider('ws://host:7420/sync',
 * room, doc, { params: { token } })`). Authenticated, Host/Origin-checked and rate-limited by
 * the server's hooks like every route (a bearer header, or `?token=`); a failed
 * authentication is answered on the socket as close code 4401, a refused room as 4404 (the
 * same for a missing room, another tenant's and a path leading out), an unsyncable file as
 * 4413/4415, a credential past its share of connections (syncMaxConnectionsPerCredential)
 * as 4429. Codes 4400-4499 tell the stock client not to retry.
 */
export function registerSyncSocket(fastify: FastifyInstance, app: App): void {
  fastify.get('/sync/*', { websocket: true, config: { socketAuth: true } }, async (socket, request) => {
    if (!request.caller) return socket.close(CloseCodes.unauthenticated, 'The token is missing, invalid or revoked.');
    const room = (request.params as { '*': string })['*'];
    // Messages that arrive while the room loads wait, within a bound.
    const early: Uint8Array[] = [];
    let earlyBytes = 0;
    let session: SyncSession | undefined;
    let closed = false;
    socket.binaryType = 'nodebuffer';
    socket.on('message', (data: Buffer) => {
      if (session) return session.receive(data);
      earlyBytes += data.length;
      if (earlyBytes > app.config.syncMaxUpdateBytes) return socket.close(CloseCodes.tooLarge, 'too much sent before the room was open');
      early.push(data);
    });
    socket.on('close', () => {
      closed = true;
      session?.leave();
    });
    try {
      const opened = await app.sync.connect(request.caller, room, {
        send: (data) => socket.send(data),
        close: (code, reason) => socket.close(code, reason),
        pause: () => socket.pause(),
        resume: () => socket.resume(),
      });
      if (closed) return opened.leave();
      session = opened;
      for (const message of early.splice(0)) opened.receive(message);
    } catch (error) {
      if (error instanceof RoomRefusal) return socket.close(error.closeCode, error.message);
      app.logger.error({ err: error, room }, 'opening a sync room failed');
      socket.close(CloseCodes.serverError, 'the room could not be opened');
    }
  });
}
