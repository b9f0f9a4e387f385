import type { ClientCapabilities, Registration, ServerCapabilities } from 'vscode-languageserver-protocol';

/**
 * Providers an editor can be given after initialize (`client/registerCapability`): the
 * request method registered, and the editor's client capability that must say
 * `dynamicRegistration: true` for it.
 */
const DYNAMIC_PROVIDERS: Partial<Record<keyof ServerCapabilities, { method: string; client: readonly [string, string] }>> = {
  hoverProvider: { method: 'textDocument/hover', client: ['textDocument', 'hover'] },
  definitionProvider: { method: 'textDocument/definition', client: ['textDocument', 'definition'] },
  declarationProvider: { method: 'textDocument/declaration', client: ['textDocument', 'declaration'] },
  typeDefinitionProvider: { method: 'textDocument/typeDefinition', client: ['textDocument', 'typeDefinition'] },
  implementationProvider: { method: 'textDocument/implementation', client: ['textDocument', 'implementation'] },
  referencesProvider: { method: 'textDocument/references', client: ['textDocument', 'references'] },
  documentHighlightProvider: { method: 'textDocument/documentHighlight', client: ['textDocument', 'documentHighlight'] },
  documentSymbolProvider: { method: 'textDocument/documentSymbol', client: ['textDocument', 'documentSymbol'] },
  completionProvider: { method: 'textDocument/completion', client: ['textDocument', 'completion'] },
  signatureHelpProvider: { method: 'textDocument/signatureHelp', client: ['textDocument', 'signatureHelp'] },
  codeLensProvider: { method: 'textDocument/codeLens', client: ['textDocument', 'codeLens'] },
  documentLinkProvider: { method: 'textDocument/documentLink', client: ['textDocument', 'documentLink'] },
  colorProvider: { method: 'textDocument/documentColor', client: ['textDocument', 'colorProvider'] },
  documentFormattingProvider: { method: 'textDocument/formatting', client: ['textDocument', 'formatting'] },
  documentRangeFormattingProvider: { method: 'textDocument/rangeFormatting', client: ['textDocument', 'rangeFormatting'] },
  documentOnTypeFormattingProvider: { method: 'textDocument/onTypeFormatting', client: ['textDocument', 'onTypeFormatting'] },
  renameProvider: { method: 'textDocument/rename', client: ['textDocument', 'rename'] },
  foldingRangeProvider: { method: 'textDocument/foldingRange', client: ['textDocument', 'foldingRange'] },
  selectionRangeProvider: { method: 'textDocument/selectionRange', client: ['textDocument', 'selectionRange'] },
  semanticTokensProvider: { method: 'textDocument/semanticTokens', client: ['textDocument', 'semanticTokens'] },
  inlayHintProvider: { method: 'textDocument/inlayHint', client: ['textDocument', 'inlayHint'] },
  callHierarchyProvider: { method: 'textDocument/prepareCallHierarchy', client: ['textDocument', 'callHierarchy'] },
  typeHierarchyProvider: { method: 'textDocument/prepareTypeHierarchy', client: ['textDocument', 'typeHierarchy'] },
  linkedEditingRangeProvider: { method: 'textDocument/linkedEditingRange', client: ['textDocument', 'linkedEditingRange'] },
  workspaceSymbolProvider: { method: 'workspace/symbol', client: ['workspace', 'symbol'] },
};

/** The editor's client capability for each request a provider serves. */
const CLIENT_OF_METHOD = new Map<string, readonly [string, string]>([
  ...Object.values(DYNAMIC_PROVIDERS).map((provider) => [provider.method, provider.client] as const),
  ['workspace/executeCommand', ['workspace', 'executeCommand']],
]);

/**
 * What one editor was told the workspace's servers offer, and what a server that starts later
 * adds. Servers start lazily (the first Python file opened in a TypeScript workspace starts
 * pyright): a provider no server offered at initialize is registered with the editor
 * dynamically, for the late server's documents, when the editor said it takes dynamic
 * registration for it; otherwise it is not announced, and the facade still routes the request
 * when the editor sends it. A provider announced at initialize (for every document) is never
 * registered again: the editor would ask twice and show answers twice.
 */
export class LateCapabilities {
  /** Providers registered dynamically so far, by capability key, and for which servers. */
  private readonly registered = new Map<string, Set<string>>();
  private readonly commands: Set<string>;
  private count = 0;

  constructor(
    private readonly announced: ServerCapabilities,
    private readonly client: ClientCapabilities,
  ) {
    this.commands = new Set(announced.executeCommandProvider?.commands ?? []);
  }

  /** The registrations to send for a server that started: what it offers that the editor was not told, and takes dynamically. */
  registrationsFor(serverId: string, capabilities: ServerCapabilities, patterns: readonly string[]): Registration[] {
    const documentSelector = patterns.map((pattern) => ({ pattern }));
    const registrations: Registration[] = [];
    for (const [key, provider] of Object.entries(DYNAMIC_PROVIDERS) as [keyof ServerCapabilities, { method: string; client: readonly [string, string] }][]) {
      const offered = capabilities[key];
      if (offered === undefined || offered === null || offered === false) continue;
      if (this.isAnnounced(this.announced[key]) || !this.takesDynamic(provider.client)) continue;
      const servers = this.registered.get(key) ?? new Set<string>();
      if (servers.has(serverId)) continue;
      servers.add(serverId);
      this.registered.set(key, servers);
      const options = typeof offered === 'object' ? (offered as Record<string, unknown>) : {};
      const scoped = provider.method === 'workspace/symbol' ? options : { ...options, documentSelector };
      registrations.push({ id: `codebuddy/${serverId}/${++this.count}`, method: provider.method, registerOptions: scoped });
    }
    const commands = (capabilities.executeCommandProvider?.commands ?? []).filter((command) => !this.commands.has(command));
    if (commands.length > 0 && this.takesDynamic(['workspace', 'executeCommand'])) {
      for (const command of commands) this.commands.add(command);
      registrations.push({ id: `codebuddy/${serverId}/${++this.count}`, method: 'workspace/executeCommand', registerOptions: { commands } });
    }
    return registrations;
  }

  /**
   * Whether a server's own registration of `method` may be passed on to the editor: a request
   * the facade routes to servers (a provider, or commands), not announced at initialize (the
   * editor asks for every document already), and taken dynamically by the editor.
   */
  accepts(method: string): boolean {
    const client = CLIENT_OF_METHOD.get(method);
    if (!client || !this.takesDynamic(client)) return false;
    if (method === 'workspace/executeCommand') return true;
    const key = Object.entries(DYNAMIC_PROVIDERS).find(([, provider]) => provider.method === method)![0] as keyof ServerCapabilities;
    return !this.isAnnounced(this.announced[key]);
  }

  /** Of the commands a server registered, those the editor does not know yet (now known). */
  newCommands(commands: readonly unknown[]): string[] {
    const fresh = [...new Set(commands.filter((command): command is string => typeof command === 'string' && !this.commands.has(command)))];
    for (const command of fresh) this.commands.add(command);
    return fresh;
  }

  /** Commands whose registration the editor was told is gone: a later registration names them again. */
  forgetCommands(commands: readonly string[]): void {
    for (const command of commands) this.commands.delete(command);
  }

  private isAnnounced(value: unknown): boolean {
    return value !== undefined && value !== null && value !== false;
  }

  private takesDynamic([area, name]: readonly [string, string]): boolean {
    const section = (this.client as Record<string, Record<string, { dynamicRegistration?: boolean } | undefined> | undefined>)[area];
    return section?.[name]?.dynamicRegistration === true;
  }
}
