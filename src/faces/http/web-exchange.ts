import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The MCP SDK speaks web-standard `Request`/`Response`; fastify hands us Node's. This is the
 * bridge, in place of the SDK's `toNodeHandler`, for two things that adapter does not do:
 *
 * - an SSE answer's headers are sent at once. Node sends headers with the first body write,
 *   and a GET stream's first write is a keep-alive ~15 s later, so clients waited that long
 *   to learn the stream was open.
 * - a client that goes away cancels the body at once. The adapter noticed only at the
 *   stream's next write (the next keep-alive), and until then the transport held the
 *   session's GET stream as open and refused the client's new one with 409.
 */
export function toWebRequest(raw: IncomingMessage, body: unknown, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw.headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  const method = raw.method ?? 'GET';
  // The body was read and parsed already (see mcp-route.ts); only a POST carries one on to MCP.
  const withBody = method === 'POST' && body !== undefined;
  return new Request(`http://${raw.headers.host ?? 'localhost'}${raw.url ?? '/'}`, { method, headers, signal, ...(withBody ? { body: JSON.stringify(body) } : {}) });
}

export async function writeWebResponse(response: Response, res: ServerResponse, clientGone: AbortSignal): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [name, value] of response.headers) headers[name] = value;
  res.writeHead(response.status, headers);
  if (response.body === null) {
    res.end();
    return;
  }
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) res.flushHeaders();
  const reader = response.body.getReader();
  const cancel = () => void reader.cancel().catch(() => undefined);
  if (clientGone.aborted) cancel();
  else clientGone.addEventListener('abort', cancel, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await drained(res, clientGone);
    }
  } catch {
    // Cancelled because the client went away: nothing left to write to.
  } finally {
    clientGone.removeEventListener('abort', cancel);
    res.end();
  }
}

function drained(res: ServerResponse, clientGone: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      clientGone.removeEventListener('abort', done);
      resolve();
    };
    res.once('drain', done);
    clientGone.addEventListener('abort', done, { once: true });
  });
}
