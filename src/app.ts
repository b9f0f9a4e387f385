import { mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from './config/config-schema.js';
import { systemClock, type Clock } from './core/clock.js';
import { createIdGenerator, type IdGenerator } from './core/ids.js';
import { createLogger, type Logger } from './core/logger.js';
import { EventBus } from './core/event-bus.js';
import { openDatabase, type Db } from './store/database.js';
import { ActionRepository } from './store/action-repository.js';
import { AuditRepository } from './store/audit-repository.js';
import { IdempotencyRepository } from './store/idempotency-repository.js';
import { PolicyRepository } from './store/policy-repository.js';
import { ProposalRepository } from './store/proposal-repository.js';
import { TenantRepository } from './store/tenant-repository.js';
import { TokenRepository } from './store/token-repository.js';
import { WorkspaceRepository } from './store/workspace-repository.js';
import { Authenticator } from './auth/authenticator.js';
import { TokenService } from './auth/token-service.js';
import { AuditChain } from './ledger/audit-chain.js';
import { FailedAuthTrail } from './ledger/failed-auth-trail.js';
import { Ledger } from './ledger/ledger.js';
import { PolicyService } from './ledger/policy-service.js';
import { ProposalService } from './ledger/proposal-service.js';
import { ChangePreviewer } from './files/change-preview.js';
import { WorkspaceService } from './workspaces/workspace-service.js';
import { WorkspaceDisks } from './workspaces/workspace-disk.js';
import { FileService } from './files/file-service.js';
import { WorkspaceWatchers } from './files/workspace-watcher.js';
import { FileFinder } from './files/file-finder.js';
import { TextSearch } from './files/text-search.js';
import { OperationRegistry } from './operations/registry.js';
import { workspaceOperations } from './operations/workspace-operations.js';
import { fileOperations } from './operations/file-operations.js';
import { auditOperations } from './operations/audit-operations.js';
import { actionOperations } from './operations/action-operations.js';
import { policyOperations } from './operations/policy-operations.js';
import { execOperations } from './operations/exec-operations.js';
import { BubblewrapSandbox } from './workspaces/runtimes/bubblewrap-sandbox.js';
import { DockerEngine } from './workspaces/runtimes/docker-engine.js';
import { RuntimeProvider } from './workspaces/runtimes/runtime-provider.js';
import { terminalOperations } from './operations/terminal-operations.js';
import { TerminalService } from './terminals/terminal-service.js';
import { TerminalRepository } from './store/terminal-repository.js';
import { GrammarManifest } from './code/syntax/grammar-manifest.js';
import { SyntaxPool } from './code/syntax/syntax-pool.js';
import { SyntaxService } from './code/syntax/syntax-service.js';
import { syntaxOperations } from './operations/syntax-operations.js';
import { ServerRegistry } from './code/server-registry.js';
import { LanguageServerPool } from './code/language-server-pool.js';
import { CodeIntelligence } from './code/code-intelligence.js';
import { codeOperations } from './operations/code-operations.js';
import { SyncRepository } from './store/sync-repository.js';
import { SyncService } from './sync/sync-service.js';
import { syncOperations } from './operations/sync-operations.js';
import { NoteRepository } from './store/note-repository.js';
import { NoteLinkRepository } from './store/note-link-repository.js';
import { NoteTaskRepository } from './store/note-task-repository.js';
import { NoteArtifactRepository } from './store/note-artifact-repository.js';
import { BlobStore } from './notes/blob-store.js';
import { NoteService } from './notes/note-service.js';
import { NotePreviewer } from './notes/note-previews.js';
import { noteOperations } from './operations/note-operations.js';
import { refactorOperations } from './operations/refactor-operations.js';
import { LanguageServerRenames } from './refactor/language-server-rename.js';
import { RefactorService } from './refactor/refactor-service.js';
import { TypeScriptProjects } from './refactor/typescript-projects.js';
import { LspFacade } from './faces/lsp/lsp-facade.js';

/** The package's version (src/ and dist/ both sit one level below package.json). */
const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Everything a face needs, built once from the configuration. */
export interface App {
  /** The package's version, as faces report it (the OpenAPI document, the LSP facade). */
  version: string;
  config: Config;
  db: Db;
  logger: Logger;
  /** What services publish (file changes, moves, deleted workspaces) for others to follow. */
  events: EventBus;
  /** Per-workspace file watchers, held by whoever needs to hear of changes made by commands. */
  watchers: WorkspaceWatchers;
  tokens: TokenService;
  authenticator: Authenticator;
  failedAuths: FailedAuthTrail;
  workspaces: WorkspaceService;
  auditChain: AuditChain;
  actions: ActionRepository;
  ledger: Ledger;
  proposals: ProposalService;
  terminals: TerminalService;
  /** Language servers, one per (workspace, server), started on first use. */
  languageServers: LanguageServerPool;
  notes: NoteService;
  /** Warm TypeScript projects of the workspaces being refactored. */
  typescriptProjects: TypeScriptProjects;
  registry: OperationRegistry;
  /** Real-time sync rooms (y-websocket) and the file bridge. */
  sync: SyncService;
  /** Editors over LSP (stdio and WebSocket), routed to the language servers above. */
  lsp: LspFacade;
  /** Why local commands cannot be sandboxed here, when they cannot; a serving process says so at start. */
  sandboxUnavailable: string | undefined;
  /** Stops what the app runs (language servers included: their processes are killed, not waited for). */
  close(): void;
}

/** `unrecorded` is for benchmarks alone: it measures what recording costs by skipping it. */
export function createApp(config: Config, overrides: { logger?: Logger; clock?: Clock; ids?: IdGenerator; unrecorded?: boolean } = {}): App {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;
  const ids = overrides.ids ?? createIdGenerator(clock.now);
  const events = new EventBus((error, topic) => logger.error({ err: error, topic }, 'event listener failed'));

  mkdirSync(config.dataDir, { recursive: true });
  const dataDir = realpathSync(resolve(config.dataDir));
  const db = openDatabase(join(dataDir, 'codebuddy.db'));

  const tenants = new TenantRepository(db);
  const actions = new ActionRepository(db);
  const auditChain = new AuditChain(new AuditRepository(db));
  const tokens = new TokenService(new TokenRepository(db), tenants, ids, clock, db, auditChain);
  const authenticator = new Authenticator(config, tokens, tenants, clock);
  const failedAuths = new FailedAuthTrail(db, auditChain, clock);
  const ledger = new Ledger(db, actions, auditChain, new IdempotencyRepository(db), clock, ids, {
    secretKeys: config.redactKeys,
    idempotencyTtlMs: config.idempotencyTtlHours * 3_600_000,
    ...(overrides.unrecorded ? { unrecorded: true } : {}),
  }, logger);
  const docker = new DockerEngine(config.dockerSocket);
  const sandbox = config.localSandbox === 'off' ? { unavailable: 'turned off (CODEBUDDY_LOCAL_SANDBOX=off)' } : BubblewrapSandbox.detect();
  const workspaceRepository = new WorkspaceRepository(db);
  const workspaces = new WorkspaceService(workspaceRepository, tenants, ids, clock, {
    events,
    logger,
    dataDir,
    allowedRoots: config.allowedRoots,
    ...('sandbox' in sandbox ? { localOwner: { uid: config.sandboxUid, gid: config.sandboxGid } } : {}),
    docker: {
      engine: docker,
      image: config.dockerImage,
      limits: { memoryBytes: config.dockerMemoryBytes, cpus: config.dockerCpus, pids: config.dockerPidsLimit, network: 'none' },
      networkWhenEnabled: config.dockerNetworkMode,
      allowedImages: config.dockerAllowedImages,
      agentNetwork: config.dockerAgentNetwork,
    },
    disks: { manager: new WorkspaceDisks(join(dataDir, 'disks'), logger), maxBytes: config.workspaceDiskBytes },
  });

  const policies = new PolicyService(new PolicyRepository(db), clock, config.defaultPolicy);
  const runtimes = new RuntimeProvider(
    {
      limits: { pids: config.localPidsLimit, memoryBytes: config.localMemoryBytes },
      homeRoot: join(dataDir, 'homes'),
      path: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      sandbox,
      allowUnsandboxed: config.allowUnsandboxed,
      hiddenPaths: () => [dataDir, ...(config.configFile ? [config.configFile] : []), ...config.allowedRoots, ...workspaceRepository.allRootPaths()],
      deniedGlobs: (workspace) => policies.deniedPaths(workspace.tenantId, workspace.id),
    },
    docker,
  );
  const terminals = new TerminalService(new TerminalRepository(db), ids, clock, { scrollbackChars: 256 * 1024, maxPerWorkspace: 8, maxReadChars: 32 * 1024 }, events);
  const files = new FileService(config, events);
  const watchers = new WorkspaceWatchers(events, logger, { debounceMs: 50, skippedDirectories: ['.git', 'node_modules'] });
  const finder = new FileFinder(config.listPageSize);
  const typescriptProjects = new TypeScriptProjects(events, watchers, {
    idleMs: config.refactorIdleMinutes * 60_000,
    maxProjects: config.refactorMaxProjects,
    maxSourceFiles: config.refactorMaxSourceFiles,
    maxFileBytes: config.maxFileBytes,
    workerHeapMb: config.refactorWorkerHeapMb,
    timeoutMs: config.refactorTimeoutSeconds * 1000,
  }, logger);
  const search = new TextSearch({ engine: config.searchEngine, pageSize: config.searchPageSize, maxFileBytes: config.maxFileBytes });
  // Validated now: a bad grammars/manifest.json line stops the server at start, not a call later.
  const grammars = GrammarManifest.load();
  const syntaxPool = new SyntaxPool({ grammars: grammars.all.map(({ name, wasmPath, symbols }) => ({ name, wasmPath, symbols })) }, config.syntaxWorkers);
  const syntax = new SyntaxService(grammars, syntaxPool, {
    maxFileBytes: config.syntaxMaxFileBytes,
    outlinePageSize: 500,
    queryPageSize: config.searchPageSize,
    queryTimeoutMs: config.codeQueryTimeoutMs,
    fileTimeoutMs: Math.min(5_000, config.codeQueryTimeoutMs),
    matchLimit: 1024,
  });
  const languageServers = new LanguageServerPool(
    new ServerRegistry({ pythonServer: config.codePythonServer, extra: config.codeServers }),
    (workspace) => runtimes.for(workspace),
    files,
    watchers,
    {
      requestTimeoutMs: config.codeRequestTimeoutSeconds * 1000,
      readyTimeoutMs: config.codeReadyTimeoutSeconds * 1000,
      maxMessageBytes: config.codeMaxMessageBytes,
      maxOpenDocuments: config.codeMaxOpenDocuments,
      idleStopMs: config.codeIdleStopMinutes * 60_000,
    },
    events,
    logger,
  );
  const code = new CodeIntelligence(languageServers.registry, languageServers, files, {
    requestTimeoutMs: config.codeRequestTimeoutSeconds * 1000,
    pageSize: config.codePageSize,
    workspaceDiagnosticsFiles: config.codeDiagnosticsMaxFiles,
  });
  const notes = new NoteService(
    db,
    { notes: new NoteRepository(db), links: new NoteLinkRepository(db), tasks: new NoteTaskRepository(db), artifacts: new NoteArtifactRepository(db) },
    new BlobStore(join(dataDir, 'blobs'), config.artifactMaxBytes),
    files,
    ids,
    clock,
    config.noteMaxBytes,
    events,
  );
  const syncRepository = new SyncRepository(db);
  // The bridge writes human edits through the registry, built below.
  const sync = new SyncService(syncRepository, workspaces, files, notes, policies, watchers, events, () => registry, clock, logger, {
    maxUpdateBytes: config.syncMaxUpdateBytes,
    maxDocumentBytes: config.syncMaxDocumentBytes,
    messagesPerSecond: config.syncMessagesPerSecond,
    bytesPerSecond: config.syncBytesPerSecond,
    maxFileBytes: config.maxFileBytes,
    maxNoteBytes: config.noteMaxBytes,
    writeDebounceMs: config.syncWriteDebounceMs,
    writeMaxDelayMs: config.syncWriteMaxDelayMs,
    compactAfterUpdates: config.syncCompactAfterUpdates,
    unloadAfterMs: config.syncUnloadAfterMs,
    maxConnectionsPerCredential: config.syncMaxConnectionsPerCredential,
  });
  // Links follow file moves; a deleted workspace takes its notes, tasks, artifacts and blobs along.
  const unfollowNotes = notes.follow();
  // Applying an approved proposal runs the operation again through the registry, built below.
  const proposals = new ProposalService(db, new ProposalRepository(db), actions, auditChain, clock, config.proposalTtlMinutes * 60_000, (proposal) => registry.runHeld(proposal), logger, events);
  const registry: OperationRegistry = new OperationRegistry(
    [
      ...workspaceOperations(workspaces, terminals, config.listPageSize, languageServers),
      ...fileOperations(files, finder, search, new ChangePreviewer(files)),
      ...auditOperations(auditChain, config.listPageSize),
      ...actionOperations(proposals, actions, config.listPageSize),
      ...policyOperations(policies),
      ...execOperations((workspace) => runtimes.for(workspace), config.execMaxTimeoutSeconds),
      ...terminalOperations(terminals, (workspace) => runtimes.for(workspace)),
      ...syntaxOperations(syntax),
      ...codeOperations(code),
      ...syncOperations(sync, syncRepository, files, config.listPageSize),
      ...noteOperations(notes, new NotePreviewer(notes)),
      ...refactorOperations(new RefactorService(typescriptProjects, files, new LanguageServerRenames(code, languageServers.registry, files, config.codeRequestTimeoutSeconds * 1000))),
    ],
    { ledger, workspaces, policies, proposals, logger },
  );

  const lsp = new LspFacade(languageServers, files, proposals, registry, events, logger, {
    requestTimeoutMs: config.codeRequestTimeoutSeconds * 1000,
    pendingPollMs: 2_000,
    version: PACKAGE_VERSION,
  });

  return {
    version: PACKAGE_VERSION,
    config: { ...config, dataDir },
    db,
    logger,
    events,
    watchers,
    tokens,
    authenticator,
    failedAuths,
    workspaces,
    auditChain,
    actions,
    ledger,
    proposals,
    terminals,
    languageServers,
    notes,
    typescriptProjects,
    registry,
    sync,
    lsp,
    sandboxUnavailable: 'unavailable' in sandbox ? sandbox.unavailable : undefined,
    close: () => {
      unfollowNotes();
      typescriptProjects.closeAll();
      lsp.close();
      void watchers.closeAll();
      void languageServers.close();
      terminals.shutdown();
      workspaces.close();
      syntaxPool.close();
      failedAuths.close();
      db.close();
    },
  };
}
