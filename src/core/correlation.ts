import { randomUUID } from 'node:crypto';

/**
 * The correlation id of a call: the trace id of W3C trace context (the face passes the
 * protocol's own `traceparent`, e.g. from MCP `_meta`; else the HTTP header), an
 * `X-Correlation-Id` header, or a new one. Every face uses this, so one request is joined
 * to its action and its log lines the same way everywhere.
 */
export function correlationIdOf(protocolTraceparent: unknown, headers: { get(name: string): string | null } | undefined): string {
  const traceparent = protocolTraceparent ?? headers?.get('traceparent');
  if (typeof traceparent === 'string') {
    const traceId = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent)?.[1];
    if (traceId) return traceId;
  }
  const header = headers?.get('x-correlation-id');
  if (header && /^[\w.:-]{1,128}$/.test(header)) return header;
  return randomUUID();
}
