import { validateHostHeader } from '@modelcontextprotocol/server';
import { CodeBuddyError } from '../../core/errors.js';

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]', '::1'];
const LOOPBACK_ORIGIN_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

export interface OriginGuardOptions {
  /** The listen address. */
  host: string;
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
}

/**
 * Which Host and Origin headers a request may carry, on every route and WebSocket upgrade.
 *
 * Host: bound to loopback, only loopback names (and `allowedHosts`) — a DNS-rebinding page
 * reaches a loopback server under its own name. Bound elsewhere, only `allowedHosts` when set.
 *
 * Origin: a browser sends it; non-browser clients (agents, curl) do not, and pass. A present
 * Origin must be one of the server's own loopback origins (scheme, name and port: another
 * local app on another port is another origin) when bound to loopback, or in `allowedOrigins`.
 */
export class OriginGuard {
  private readonly loopback: boolean;
  private readonly hosts: string[] | undefined;
  private readonly origins = new Set<string>();

  constructor(private readonly options: OriginGuardOptions) {
    this.loopback = LOOPBACK_HOSTS.includes(options.host);
    this.hosts = this.loopback || options.allowedHosts.length > 0 ? [...(this.loopback ? LOOPBACK_HOSTS : []), ...options.allowedHosts] : undefined;
    // allowedOrigins arrive normalized (config-schema.ts), as CORS sees them too.
    for (const origin of options.allowedOrigins) this.origins.add(origin);
  }

  /** Once the port is known: the server's own loopback origins are allowed too. */
  listeningOn(port: number): void {
    if (this.loopback) for (const name of LOOPBACK_ORIGIN_HOSTS) this.origins.add(`http://${name}:${port}`);
  }

  get corsOrigins(): readonly string[] {
    return this.options.allowedOrigins;
  }

  /** Throws E_FORBIDDEN for a Host or Origin this server must not answer. */
  check(host: string | undefined, origin: string | undefined): void {
    if (this.hosts && !validateHostHeader(host, this.hosts).ok) {
      throw new CodeBuddyError('E_FORBIDDEN', 'This Host is not served here (DNS rebinding protection); see allowedHosts.');
    }
    if (origin !== undefined && !this.origins.has(normalizedOrigin(origin) ?? '')) {
      throw new CodeBuddyError('E_FORBIDDEN', 'Requests from this Origin are not allowed; see allowedOrigins.');
    }
  }
}

/** `scheme://host[:port]` as URL spells it (default ports dropped, names lower-cased); undefined if not an origin. */
function normalizedOrigin(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    return url.origin === 'null' ? undefined : url.origin;
  } catch {
    return undefined;
  }
}
