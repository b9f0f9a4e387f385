/**
 * A JSON-RPC error answered at the HTTP level, before (or instead of) any MCP handling: the
 * shape the SDK's transports use for theirs, so a client reads every `/mcp` refusal alike.
 * `id` is null: the request's id is unknown (or there was no readable request).
 */
export function jsonRpcError(status: number, code: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(jsonRpcErrorBody(code, message), { status, headers: { 'content-type': 'application/json', ...headers } });
}

export function jsonRpcErrorBody(code: number, message: string): string {
  return JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
}
