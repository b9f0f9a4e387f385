import type { ProgressToken } from 'vscode-languageserver-protocol';

/** Most server-created progress tokens one editor is told about at once: a server cannot grow the map without end. */
const MAX_SERVER_TOKENS = 1_000;

/** The params keys through which a request hands the server a progress token of the editor's. */
const REQUEST_TOKEN_KEYS = ['workDoneToken', 'partialResultToken'] as const;

/**
 * One editor's progress tokens as the servers see them. Tokens an editor puts in its requests
 * (`workDoneToken`, `partialResultToken`) are replaced by tokens unique to this editor and
 * request, so two editors using the same token (both start at 1) never see each other's
 * progress or partial results; the server's `$/progress` of such a token goes back to this
 * editor only, under its own token. Tokens a server creates (`window/workDoneProgress/create`:
 * project loading) concern every editor: each is told under the server's id and token, so
 * two servers' tokens never collide either.
 */
export class ProgressTokens {
  private readonly ofRequests = new Map<string, { server: object; token: ProgressToken }>();
  private readonly ofServers = new Map<string, { server: object; serverToken: ProgressToken }>();
  private count = 0;

  constructor(private readonly prefix: string) {}

  /** The request's params as the server gets them (a shallow copy when they carry tokens), and the function forgetting those tokens once answered. */
  forRequest<T>(server: object, params: T): { params: T; release: () => void } {
    if (params === null || typeof params !== 'object') return { params, release: () => undefined };
    const record = params as Record<string, unknown>;
    let copy: Record<string, unknown> | undefined;
    const issued: string[] = [];
    for (const key of REQUEST_TOKEN_KEYS) {
      const token = record[key];
      if (typeof token !== 'string' && typeof token !== 'number') continue;
      const serverToken = `${this.prefix}/${++this.count}`;
      this.ofRequests.set(serverToken, { server, token });
      issued.push(serverToken);
      copy ??= { ...record };
      copy[key] = serverToken;
    }
    if (!copy) return { params, release: () => undefined };
    return { params: copy as T, release: () => issued.forEach((token) => this.ofRequests.delete(token)) };
  }

  /** The editor's token for a request's progress from `server`, or undefined when it is not one of this editor's requests. */
  ofRequest(server: object, token: ProgressToken): ProgressToken | undefined {
    const entry = typeof token === 'string' ? this.ofRequests.get(token) : undefined;
    return entry?.server === server ? entry.token : undefined;
  }

  /** A server created a token: the token the editor is told, or undefined past the bound. */
  created(server: object, serverId: string, token: ProgressToken): string | undefined {
    const editorToken = `${serverId}/${String(token)}`;
    if (!this.ofServers.has(editorToken) && this.ofServers.size >= MAX_SERVER_TOKENS) return undefined;
    this.ofServers.set(editorToken, { server, serverToken: token });
    return editorToken;
  }

  /** The editor's token for progress of a token the server created (and the editor was told of), or undefined. */
  ofServer(server: object, serverId: string, token: ProgressToken): string | undefined {
    const editorToken = `${serverId}/${String(token)}`;
    return this.ofServers.get(editorToken)?.server === server ? editorToken : undefined;
  }

  /** A server-created progress ended: its token is forgotten. */
  ended(editorToken: string): void {
    this.ofServers.delete(editorToken);
  }

  /** Where an editor's `window/workDoneProgress/cancel` goes: the server and its token, or undefined when the token is not known. */
  toServer(editorToken: ProgressToken): { server: object; token: ProgressToken } | undefined {
    const created = typeof editorToken === 'string' ? this.ofServers.get(editorToken) : undefined;
    if (created) return { server: created.server, token: created.serverToken };
    for (const [serverToken, entry] of this.ofRequests) if (entry.token === editorToken) return { server: entry.server, token: serverToken };
    return undefined;
  }
}
