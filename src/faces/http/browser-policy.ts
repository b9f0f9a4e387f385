import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/**
 * Security headers on every answer. The API serves JSON, SSE and WebSocket, never a page,
 * so the content security policy allows nothing at all and no site may frame it. Helmet
 * sets its headers on the raw response, so the MCP routes (which write to it directly,
 * SSE streams included) carry them too.
 */
export async function registerSecurityHeaders(fastify: FastifyInstance): Promise<void> {
  await fastify.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  });
}

/**
 * CORS, only for origins the operator allowed (`allowedOrigins`); without any, no CORS
 * headers are sent and browsers keep other origins from reading answers. Credentials are
 * bearer tokens, never cookies, so none are allowed to ride along.
 */
export async function registerCors(fastify: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  await fastify.register(cors, {
    origin: [...origins],
    methods: ['GET', 'POST', 'DELETE'],
    exposedHeaders: ['mcp-session-id', 'x-correlation-id', 'x-action-id', 'retry-after'],
    credentials: false,
  });
}
