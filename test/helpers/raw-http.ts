import { request } from 'node:http';

/** What a 2025-era client sends with every request after `initialize`. */
export const MCP_ACCEPT = 'application/json, text/event-stream';

export const initializeMessage = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

export const toolsCall = (name: string, args: Record<string, unknown>, id = 2) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

/** A raw POST to /mcp, as an attacker replaying headers would send it. */
export function postMcp(url: URL, token: string, body: unknown, headers: Record<string, string> = {}, method = 'POST'): Promise<Response> {
  return fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), accept: MCP_ACCEPT, ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Opens a 2025-era session with a raw `initialize`; answers its id. */
export async function openSession(url: URL, token: string): Promise<string> {
  const response = await postMcp(url, token, initializeMessage);
  await response.text();
  const id = response.headers.get('mcp-session-id');
  if (response.status !== 200 || !id) throw new Error(`initialize answered ${response.status}`);
  return id;
}

/** The JSON-RPC messages of an answer, whether it came as JSON or as an SSE stream. */
export function messagesOf(text: string): Record<string, unknown>[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return [JSON.parse(trimmed) as Record<string, unknown>].flat();
  return trimmed
    .split('\n')
    // An empty data line is a priming event (resumable streams open with one): no message.
    .filter((line) => line.startsWith('data:') && line.slice(5).trim() !== '')
    .map((line) => JSON.parse(line.slice(5)) as Record<string, unknown>);
}

/**
 * One request over node:http, which (unlike fetch) sends whatever Host header it is given.
 * Answers the status, headers and body text.
 */
export function rawRequest(url: URL, options: { method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {} });
    outgoing.on('response', (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, text }));
    });
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}
