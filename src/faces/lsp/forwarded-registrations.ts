import type { Registration, Unregistration } from 'vscode-languageserver-protocol';
import type { LateCapabilities } from './late-capabilities.js';

/** The prefix of an editor's id for a server's registration; `codebuddy/<server>/<n>` (numbers) are LateCapabilities'. */
const idOf = (serverId: string, registrationId: string) => `codebuddy/${serverId}/registered/${registrationId}`;

/**
 * The registrations one editor was given of those the servers made themselves
 * (`client/registerCapability` after they started), under ids namespaced per server, so two
 * servers using the same id (gopls names them after the method) never collide in the editor.
 *
 * Passed on: requests the facade routes to servers (providers, commands), where the editor
 * takes them dynamically and was not told of them at initialize. Kept from editors: what the
 * facade serves itself — watched files (the pool feeds servers CodeBuddy's file events),
 * configuration (the servers' settings are CodeBuddy's), document sync (the facade's full
 * sync), pull diagnostics (the facade pushes them, merged with pending actions), and
 * anything else it does not route.
 */
export class ForwardedRegistrations {
  /** What the editor holds, by its id: the server's registration and, for commands, those it was told. */
  private readonly held = new Map<string, { serverId: string; method: string; commands?: string[] }>();

  constructor(private readonly late: LateCapabilities) {}

  /**
   * The editor's registrations for what a server registered (none for what it holds already or
   * must not get). A registration without a document selector (the client's documents, in LSP)
   * is given the server's documents: the editor must not ask it about other languages'.
   */
  register(serverId: string, patterns: readonly string[], registrations: readonly Registration[]): Registration[] {
    const out: Registration[] = [];
    for (const registration of registrations) {
      const id = idOf(serverId, registration.id);
      if (this.held.has(id) || !this.late.accepts(registration.method)) continue;
      const options = isRecord(registration.registerOptions) ? registration.registerOptions : {};
      if (registration.method === 'workspace/executeCommand') {
        const commands = this.late.newCommands(Array.isArray(options.commands) ? options.commands : []);
        if (commands.length === 0) continue;
        this.held.set(id, { serverId, method: registration.method, commands });
        out.push({ id, method: registration.method, registerOptions: { ...options, commands } });
        continue;
      }
      this.held.set(id, { serverId, method: registration.method });
      const scoped = registration.method === 'workspace/symbol' ? options : { ...options, documentSelector: selectorFor(options.documentSelector, patterns) };
      out.push({ id, method: registration.method, registerOptions: scoped });
    }
    return out;
  }

  /** The editor's unregistrations for what a server unregistered (or lost with its run). */
  unregister(serverId: string, registrations: readonly Pick<Registration, 'id'>[]): Unregistration[] {
    return registrations.flatMap(({ id }) => this.forget(idOf(serverId, id)));
  }

  /** The editor refused registrations it was sent: it holds none of them, and is never told they are gone. */
  refused(registrations: readonly Registration[]): void {
    for (const { id } of registrations) this.forget(id);
  }

  private forget(id: string): Unregistration[] {
    const entry = this.held.get(id);
    if (!entry) return [];
    this.held.delete(id);
    if (entry.commands) this.late.forgetCommands(entry.commands);
    return [{ id, method: entry.method }];
  }
}

/**
 * The documents a registration covers, as the editor matches them: a server's selector
 * without its scheme (the server sees `file:` URIs; the editor's may be `codebuddy:`), or the
 * server's own documents when it gave none.
 */
function selectorFor(given: unknown, patterns: readonly string[]): unknown[] {
  if (!Array.isArray(given) || given.length === 0) return patterns.map((pattern) => ({ pattern }));
  return given.flatMap((filter) => {
    if (!isRecord(filter)) return [filter];
    const { scheme: _scheme, ...rest } = filter;
    // `{ scheme: 'file' }` alone: every document the server sees, which are its languages'.
    return Object.keys(rest).length > 0 ? [rest] : patterns.map((pattern) => ({ pattern }));
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
