import { CloseAction, ErrorAction, LanguageClient, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import type { Target } from './connection-target';
import type { ActionView, PendingActions } from './pending-actions';
import { openSocketTransport } from './socket-transport';

export interface ClientHooks {
  /** The transport ended (a socket's close code, or none for a process); answers whether to start it again. */
  closed(code: number | undefined, reason: string): boolean;
}

/** A language client for the facade: `codebuddy lsp` over stdio, or the remote socket with the token in a header. */
export function createLanguageClient(target: Exclude<Target, { kind: 'unconfigured' }>, hooks: ClientHooks): LanguageClient {
  let lastClose: { code: number; reason: string } | undefined;
  const serverOptions: ServerOptions =
    target.kind === 'local'
      ? { command: target.command, args: target.args }
      : async () => {
          lastClose = undefined;
          const { reader, writer } = await openSocketTransport(target.url, target.headers, (code, reason) => (lastClose = { code, reason }));
          return { reader, writer };
        };
  const clientOptions: LanguageClientOptions = {
    // Local: the opened folder's files; remote: the workspace's `codebuddy:` files.
    documentSelector: target.kind === 'local' ? [{ scheme: 'file', pattern: `${target.folder}/**` }] : [{ scheme: 'codebuddy', pattern: `**` }],
    outputChannelName: 'CodeBuddy',
    errorHandler: {
      error: () => ({ action: ErrorAction.Continue }),
      closed: () => {
        const restart = hooks.closed(lastClose?.code, lastClose?.reason ?? '');
        // Handled: the status bar tells what happened, no pop-up on top of it.
        return { action: restart ? CloseAction.Restart : CloseAction.DoNotRestart, handled: true };
      },
    },
  };
  return new LanguageClient('codebuddy', 'CodeBuddy', serverOptions, clientOptions);
}

/** Held actions through the facade's `codebuddy.*` commands: what a local `codebuddy lsp` (no HTTP) offers. */
export class LspPendingActions implements PendingActions {
  constructor(private readonly client: LanguageClient) {}

  async list(): Promise<ActionView[]> {
    return (await this.command<{ actions: ActionView[] }>('codebuddy.pending')).actions;
  }

  get(id: string): Promise<ActionView> {
    return this.command('codebuddy.diff', id);
  }

  approve(id: string, reason?: string): Promise<ActionView> {
    return this.command('codebuddy.approve', id, ...(reason ? [reason] : []));
  }

  reject(id: string, reason?: string): Promise<ActionView> {
    return this.command('codebuddy.reject', id, ...(reason ? [reason] : []));
  }

  private async command<O>(command: string, ...args: string[]): Promise<O> {
    return this.client.sendRequest<O>('workspace/executeCommand', { command, arguments: args });
  }
}
