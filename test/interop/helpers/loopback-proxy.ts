import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedExchange {
  method: string;
  /** The JSON-RPC method of a POST, when it had one. */
  rpcMethod: string | undefined;
  lastEventId: string | undefined;
  status: number;
  /** The proxy broke the answer off after its first SSE event. */
  cut: boolean;
}

export interface LoopbackProxy {
  url: URL;
  exchanges: ProxiedExchange[];
  close(): Promise<void>;
}

export interface ProxyOptions {
  /** Added to every request: how clients that cannot send a bearer token (the conformance suite, Inspector 0.15) reach the server. */
  authorization?: string;
  /** Answers to break off once their first SSE event (the priming event) has passed, as a network would. */
  cut?: (exchange: { method: string; rpcMethod: string | undefined }) => boolean;
}

/**
 * An HTTP proxy on 127.0.0.1 in front of a test server, for tests only: it adds the
 * Authorization header, and can cut a response stream mid-call to test resumability.
 * It listens on loopback alone and forwards only to the one target it was given.
 */
export async function startLoopbackProxy(target: URL, options: ProxyOptions = {}): Promise<LoopbackProxy> {
  const exchanges: ProxiedExchange[] = [];
  let port = 0;
  const server: Server = createServer((incoming, outgoing) => {
    void readAll(incoming).then((body) => {
      const rpcMethod = rpcMethodOf(body);
      const headers = { ...incoming.headers, host: target.host, ...(options.authorization ? { authorization: options.authorization } : {}) };
      // A browser-like client of the proxy sends the proxy's own origin: to the server that is its own origin (as a reverse proxy would say).
      if (incoming.headers.origin === `http://127.0.0.1:${port}`) headers.origin = target.origin;
      const lastEventId = incoming.headers['last-event-id'] as string | undefined;
      const upstream = request(new URL(incoming.url ?? '/', target), { method: incoming.method, headers }, (answer) => {
        const exchange: ProxiedExchange = { method: incoming.method ?? 'GET', rpcMethod, lastEventId, status: answer.statusCode ?? 0, cut: false };
        exchanges.push(exchange);
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        outgoing.flushHeaders();
        const cutting = options.cut?.({ method: exchange.method, rpcMethod }) === true && String(answer.headers['content-type']).startsWith('text/event-stream');
        answer.on('data', (chunk: Buffer) => {
          if (exchange.cut) return;
          if (!(cutting && chunk.includes('\n\n'))) return void outgoing.write(chunk);
          exchange.cut = true;
          // A broken connection, on both sides, once this chunk is out: the client sees its
          // stream end after the event, the server its socket close.
          answer.destroy();
          outgoing.write(chunk, () => outgoing.destroy());
        });
        answer.on('end', () => outgoing.end());
        answer.on('error', () => outgoing.destroy());
      });
      upstream.on('error', () => outgoing.destroy());
      outgoing.on('close', () => upstream.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  return {
    url: new URL(`http://127.0.0.1:${port}${target.pathname}`),
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readAll(incoming: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => resolve(Buffer.concat(chunks)));
    incoming.on('error', reject);
  });
}

function rpcMethodOf(body: Buffer): string | undefined {
  try {
    const message = JSON.parse(body.toString('utf8')) as { method?: unknown };
    return typeof message.method === 'string' ? message.method : undefined;
  } catch {
    return undefined;
  }
}
