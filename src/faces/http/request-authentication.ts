import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { App } from '../../app.js';
import { bearerOf } from '../../auth/authenticator.js';
import type { Authenticated } from '../../auth/credential.js';
import { TokenService } from '../../auth/token-service.js';
import { CodeBuddyError, toCodeBuddyError } from '../../core/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook on every route that is not public. */
    caller: Authenticated | undefined;
  }
  interface FastifyContextConfig {
    /** Served without authentication (health probes). */
    public?: boolean;
    /**
     * A WebSocket route: a failed authentication is answered on the socket (close code 4401),
     * because a browser's WebSocket cannot read the status of a refused handshake. It also
     * takes `?token=`, since a browser cannot set headers on a WebSocket.
     */
    socketAuth?: boolean;
  }
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

/**
 * Authentication of every route but the public ones, in `onRequest`: before fastify reads
 * the body, so an unauthenticated client never gets a body parsed (a 21 MB upload is
 * refused with 401 from its headers), and the route handlers find the caller on
 * `request.caller`. Here too: requests per credential and failed authentications per
 * client address are rate-limited, and failures go to the audit trail (itself bounded).
 */
export async function registerAuthentication(fastify: FastifyInstance, app: App): Promise<void> {
  // global: false: the limits apply where this hook asks, after authentication, not per route.
  await fastify.register(rateLimit, { global: false });
  const perCredential = fastify.createRateLimit({ max: app.config.requestsPerMinute, timeWindow: 60_000, keyGenerator: (request) => request.caller!.credential.key });
  const failuresPerSource = fastify.createRateLimit({ max: app.config.failedAuthPerMinute, timeWindow: 60_000, keyGenerator: (request) => request.ip });
  fastify.decorateRequest('caller', undefined);

  fastify.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (config.public) return;
    const fromSocket = config.socketAuth === true;
    const authorization = request.headers.authorization ?? (fromSocket ? socketToken(request) : undefined);
    try {
      request.caller = await app.authenticator.authenticate(authorization);
    } catch (error) {
      const failure = toCodeBuddyError(error);
      if (failure.code !== 'E_UNAUTHENTICATED') throw error;
      recordFailure(app, request, authorization, failure.message);
      // A valid credential from the same address still gets in: the limit bounds the work
      // and the noise of a flood; guessing a 256-bit token secret is hopeless either way.
      await refuseOverLimit(failuresPerSource, request, 'Too many failed authentications from this address.');
      if (fromSocket) return;
      throw failure;
    }
    await refuseOverLimit(perCredential, request, 'Too many requests with this credential.');
  });
}

function socketToken(request: FastifyRequest): string | undefined {
  const token = (request.query as { token?: unknown }).token;
  return typeof token === 'string' && token ? `Bearer ${token}` : undefined;
}

function recordFailure(app: App, request: FastifyRequest, authorization: string | undefined, reason: string): void {
  const credential = bearerOf(authorization);
  app.failedAuths.record({
    source: request.ip,
    method: request.method,
    // The route pattern, or the path of an unknown route: never the query, which may hold ?token=.
    route: request.routeOptions.url ?? request.url.split('?')[0]!,
    credential: credential ?? authorization,
    tokenId: credential ? TokenService.idOf(credential) : undefined,
    reason,
  });
}

async function refuseOverLimit(limiter: Limiter, request: FastifyRequest, message: string): Promise<void> {
  const verdict = await limiter(request);
  if (verdict.isAllowed || !verdict.isExceeded) return;
  throw new CodeBuddyError('E_RATE_LIMITED', message, { retry_after_s: verdict.ttlInSeconds });
}
