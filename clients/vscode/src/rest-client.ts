import { serverRoute } from './server-url';

/**
 * CodeBuddy's REST face as the extension uses it: `POST {server}/api/ops/{operation}` with the
 * operation's input as JSON and a bearer token; `200` and the operation's output, `202` and a
 * pending answer when a write is held for a human's approval, `{error:{code,message}}`
 * otherwise. Pure (no `vscode` import) and given `fetch`, so it is tested against a real
 * server outside VS Code.
 */

/** What the client needs of `fetch`: the global one fits. */
export type Fetch = (url: string, init: { method: 'POST'; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{ status: number; text(): Promise<string> }>;

export interface RestClientOptions {
  serverUrl: string;
  /** Read on each call, so a token set or replaced meanwhile is used at once. */
  token: () => Promise<string | undefined>;
  fetch: Fetch;
  /** Per call; the server gives its own operations 60 s. */
  timeoutMs?: number;
}

/** A write held for approval: not failed, not done; it applies when a human approves it. */
export interface PendingApproval {
  status: 'pending_approval';
  action_id: string;
  preview: string;
  expires_at: string;
}

export type Outcome<O> = { held: false; output: O } | { held: true; pending: PendingApproval };

/**
 * A refusal or failure: `code` is the server's stable code, or one of the client's own for
 * what never got an answer: E_NETWORK (unreachable, timed out), E_BAD_RESPONSE (not CodeBuddy's JSON).
 */
export class RestError extends Error {
  override readonly name = 'RestError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class RestClient {
  constructor(private readonly options: RestClientOptions) {}

  async call<O>(operation: string, input: Record<string, unknown>): Promise<Outcome<O>> {
    const token = await this.options.token();
    if (!token) throw new RestError(401, 'E_UNAUTHENTICATED', 'no token: run "CodeBuddy: Set Token for the Remote Server"');
    const url = serverRoute(this.options.serverUrl, `api/ops/${encodeURIComponent(operation)}`).href;
    let status: number;
    let text: string;
    try {
      const response = await this.options.fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(input),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 65_000),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      throw new RestError(0, 'E_NETWORK', `${operation}: ${url} did not answer (${error instanceof Error ? error.message : String(error)})`);
    }
    const body = parse(text);
    if (status === 200 && isObject(body)) return { held: false, output: body as O };
    if (status === 202 && isPending(body)) return { held: true, pending: body };
    if (isObject(body) && isObject(body.error) && typeof body.error.code === 'string' && typeof body.error.message === 'string') {
      throw new RestError(status, body.error.code, body.error.message);
    }
    throw new RestError(status, 'E_BAD_RESPONSE', `${operation}: HTTP ${status} without CodeBuddy's JSON from ${url} (is codebuddy.serverUrl a CodeBuddy server with REST operations?)`);
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPending(value: unknown): value is PendingApproval {
  return isObject(value) && value.status === 'pending_approval' && typeof value.action_id === 'string';
}
