import { z } from 'zod';
import { presets } from '../ledger/policy.js';
import { serverSpecSchema } from '../code/server-registry.js';

const list = z
  .union([z.array(z.string()), z.string()])
  .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((item) => item.trim()).filter(Boolean));

const bytes = z.coerce.number().int().positive();

/** A yes/no setting: `true`/`false` (or 1/0) from the environment as well as from JSON. */
const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0'])]).transform((value) => value === true || value === 'true' || value === '1');

/** JSON from the environment (a string), or already parsed from the config file. */
const json = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value, context) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'not valid JSON' });
      return z.NEVER;
    }
  }, schema);

/** A user id that is not root. */
const unprivilegedId = z.coerce.number().int().min(1).max(2 ** 32 - 2);

/**
 * Every setting, its default and its meaning. The environment variable for a key is
 * `CODEBUDDY_` + the key in SCREAMING_SNAKE_CASE (dataDir → CODEBUDDY_DATA_DIR).
 * `settingDocs` below feeds the README table, so keep the two together.
 */
export const configSchema = z.object({
  dataDir: z.string().min(1).default('./.codebuddy'),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(7420),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  jwtSecret: z.string().min(32, 'must be at least 32 characters (HS256)').optional(),
  jwtJwksUrl: z.url().optional(),
  jwtIssuer: z.string().optional(),
  jwtAudience: z.string().optional(),
  allowedRoots: list.default([]),
  allowedHosts: list.default([]),
  // Kept as URL spells an origin (lower-case name, default port dropped): the Origin guard and CORS compare alike.
  allowedOrigins: list.pipe(z.array(z.url({ protocol: /^https?$/ }).transform((origin) => new URL(origin).origin))).default([]),
  maxSessions: z.coerce.number().int().min(1).max(100_000).default(1000),
  maxSessionsPerPrincipal: z.coerce.number().int().min(1).max(10_000).default(32),
  requestsPerMinute: z.coerce.number().int().min(1).default(6000),
  failedAuthPerMinute: z.coerce.number().int().min(1).default(100),
  jwtMaxLifetimeSeconds: z.coerce.number().int().min(60).max(366 * 24 * 3600).default(24 * 3600),
  maxFileBytes: bytes.default(10 * 1024 * 1024),
  noteMaxBytes: bytes.default(256 * 1024),
  artifactMaxBytes: bytes.default(8 * 1024 * 1024),
  readPageLines: z.coerce.number().int().min(1).max(10_000).default(500),
  readPageBytes: bytes.default(64 * 1024),
  listPageSize: z.coerce.number().int().min(1).max(10_000).default(200),
  searchPageSize: z.coerce.number().int().min(1).max(10_000).default(100),
  searchEngine: z.enum(['auto', 'ripgrep', 'builtin']).default('auto'),
  syntaxMaxFileBytes: bytes.default(1024 * 1024),
  codeQueryTimeoutMs: z.coerce.number().int().min(100).max(600_000).default(10_000),
  syntaxWorkers: z.coerce.number().int().min(1).max(16).default(2),
  execMaxTimeoutSeconds: z.coerce.number().int().min(1).max(24 * 3600).default(600),
  localPidsLimit: z.coerce.number().int().min(8).max(100_000).default(512),
  localMemoryBytes: bytes.default(2 * 1024 * 1024 * 1024),
  sandboxUid: unprivilegedId.default(61000),
  sandboxGid: unprivilegedId.default(61000),
  localSandbox: z.enum(['auto', 'off']).default('auto'),
  allowUnsandboxed: flag.default(false),
  dockerSocket: z.string().min(1).optional(),
  dockerImage: z.string().min(1).default('codebuddy-workspace:latest'),
  dockerMemoryBytes: bytes.default(2 * 1024 * 1024 * 1024),
  dockerCpus: z.coerce.number().min(0.1).max(256).default(2),
  dockerPidsLimit: z.coerce.number().int().min(8).max(100_000).default(512),
  dockerNetworkMode: z.string().min(1).default('bridge'),
  dockerAllowedImages: list.default([]),
  dockerAgentNetwork: flag.default(false),
  workspaceDiskBytes: z.coerce.number().int().min(0).default(2 * 1024 * 1024 * 1024),
  defaultPolicy: z.enum(presets).default('trusted'),
  proposalTtlMinutes: z.coerce.number().min(1 / 60, 'at least one second (1/60)').max(60 * 24 * 30).default(60),
  idempotencyTtlHours: z.coerce.number().min(24, 'keys are kept at least 24 hours').max(24 * 365).default(24),
  codeServers: json(z.array(serverSpecSchema)).default([]),
  codePythonServer: z.enum(['pyright', 'pylsp']).default('pyright'),
  codeRequestTimeoutSeconds: z.coerce.number().min(0.1).max(600).default(30),
  codeReadyTimeoutSeconds: z.coerce.number().min(0.1).max(600).default(60),
  codeIdleStopMinutes: z.coerce.number().min(1 / 60).max(24 * 60).default(15),
  codeMaxMessageBytes: bytes.default(32 * 1024 * 1024),
  codeDiagnosticsMaxFiles: z.coerce.number().int().min(1).max(10_000).default(200),
  codeMaxOpenDocuments: z.coerce.number().int().min(1).max(100_000).default(1000),
  codePageSize: z.coerce.number().int().min(1).max(10_000).default(100),
  syncMaxUpdateBytes: bytes.default(2 * 1024 * 1024),
  syncMaxDocumentBytes: bytes.default(64 * 1024 * 1024),
  syncMessagesPerSecond: z.coerce.number().int().min(1).default(500),
  syncBytesPerSecond: bytes.default(8 * 1024 * 1024),
  syncWriteDebounceMs: z.coerce.number().int().min(0).max(60_000).default(1000),
  syncWriteMaxDelayMs: z.coerce.number().int().min(0).max(600_000).default(10_000),
  syncCompactAfterUpdates: z.coerce.number().int().min(10).default(500),
  syncUnloadAfterMs: z.coerce.number().int().min(0).default(5000),
  syncMaxConnectionsPerCredential: z.coerce.number().int().min(1).max(100_000).default(256),
  refactorIdleMinutes: z.coerce.number().min(1 / 60).max(24 * 60).default(10),
  refactorMaxProjects: z.coerce.number().int().min(1).max(100).default(4),
  refactorMaxSourceFiles: z.coerce.number().int().min(1).max(1_000_000).default(20_000),
  refactorWorkerHeapMb: z.coerce.number().int().min(16).max(65_536).default(4096),
  refactorTimeoutSeconds: z.coerce.number().min(0.1).max(3600).default(120),
  redactKeys: list.default(['password', 'secret', 'token', 'api_key', 'apikey', 'authorization', 'credential', 'private_key']),
});

export type Config = z.infer<typeof configSchema> & {
  /** The JSON file the settings were read from, if any: sandboxes must not see it. */
  configFile?: string;
};
export type ConfigKey = keyof z.infer<typeof configSchema>;

export const settingDocs: Record<ConfigKey, string> = {
  dataDir: 'Where the SQLite database and new workspaces live.',
  host: 'HTTP listen address.',
  port: 'HTTP listen port (0 picks a free one).',
  logLevel: 'pino log level; logs go to stderr as JSON.',
  jwtSecret: 'HS256 secret for JWT bearer tokens (claims: sub, tenant, role).',
  jwtJwksUrl: 'JWKS URL for JWT bearer tokens signed with asymmetric keys.',
  jwtIssuer: 'Required `iss` of JWTs, when set.',
  jwtAudience: 'Required `aud` of JWTs, when set.',
  allowedRoots: 'Comma-separated directories under which existing directories may be adopted as workspaces.',
  allowedHosts: 'Extra Host header names accepted on HTTP (loopback names are always accepted when bound to loopback).',
  allowedOrigins: 'Browser origins (e.g. `https://ui.example.com`) allowed to call the HTTP API, besides the server\'s own loopback origins; setting it also enables CORS for them.',
  maxSessions: 'Most 2025-era MCP sessions open at once; at the cap, the longest-idle session is closed.',
  maxSessionsPerPrincipal: 'Most 2025-era MCP sessions one user of a tenant may hold; at the cap, their longest-idle session is closed.',
  requestsPerMinute: 'HTTP requests one credential (API token or JWT subject) may make per minute; more answer 429.',
  failedAuthPerMinute: 'Failed authentications one client address may make per minute; more answer 429.',
  jwtMaxLifetimeSeconds: 'Longest lifetime accepted for a JWT (`exp` − `iat`, and `exp` − now).',
  maxFileBytes: 'Largest file read, written or edited, in bytes.',
  noteMaxBytes: 'Largest note body, in bytes of UTF-8.',
  artifactMaxBytes: 'Largest artifact content stored as a blob (under <dataDir>/blobs), in bytes.',
  readPageLines: 'Lines per file_read page.',
  readPageBytes: 'Bytes per file_read page.',
  listPageSize: 'Entries per file_list / file_glob page.',
  searchPageSize: 'Matches per file_search page.',
  searchEngine: '`auto` (ripgrep when on PATH), `ripgrep` or `builtin`.',
  syntaxMaxFileBytes: 'Largest file code_outline parses and code_query searches (larger ones are refused or skipped).',
  codeQueryTimeoutMs: 'Time budget of one code_query call across files; the answer says where it stopped and gives a cursor to go on.',
  syntaxWorkers: 'Worker threads that parse and query for code_outline and code_query.',
  execMaxTimeoutSeconds: 'Longest timeout_s an exec may ask for.',
  localPidsLimit: 'Processes one local command tree may have (where cgroups are writable).',
  localMemoryBytes: 'Memory one local command tree may use (where cgroups are writable).',
  sandboxUid: 'The uid that owns new local workspaces and runs their sandboxed commands (never root, never the server\'s).',
  sandboxGid: 'The gid that goes with `sandboxUid`.',
  localSandbox: '`auto`: local commands run under bubblewrap when this host can make a sandbox; `off`: never (commands then need `allowUnsandboxed`).',
  allowUnsandboxed: 'Run local commands as the server\'s own user when no sandbox can be made (off: they are refused). Unsafe with untrusted agents.',
  dockerSocket: 'Docker engine socket (default: the engine\'s usual socket, or DOCKER_HOST).',
  dockerImage: 'Image of Docker workspaces; build it offline with tools/build-workspace-image.sh.',
  dockerMemoryBytes: 'Memory cap of a workspace container (also the most a workspace may ask for).',
  dockerCpus: 'CPU cap of a workspace container.',
  dockerPidsLimit: 'Process cap of a workspace container.',
  dockerNetworkMode: 'Docker network of workspaces created with network: true (others have none).',
  dockerAllowedImages: 'Comma-separated images any role may create Docker workspaces from, besides dockerImage; other images need the admin role.',
  dockerAgentNetwork: 'Let roles other than admin create Docker workspaces with network: true (default false: admin only).',
  workspaceDiskBytes: 'Disk of each workspace CodeBuddy creates (a loop-mounted ext4 image; needs root), also the most limits.disk_mb may ask; 0 turns disk limits off.',
  defaultPolicy: 'Policy preset of workspaces that have none set: `trusted`, `review-writes`, `review-all` or `read-only`.',
  proposalTtlMinutes: 'How long a held action waits for a decision before it expires.',
  idempotencyTtlHours: 'How long an idempotency key and its first outcome are kept (at least 24).',
  codeServers: 'Language servers to add, or built-in ones (`typescript`, `python`, `go`) to replace, by id: a JSON array of {id, command: {local?, docker?} (argv; `{node}` and `{modules}` stand for the server\'s Node.js and its node_modules), env?, languages: [{id, patterns}], initializationOptions?, settings?, rootMarkers?, diagnostics?: `auto`|`tsserver`, openChangedFiles?: boolean}.',
  codePythonServer: 'The built-in Python server: `pyright` (npm) or `pylsp` (Debian\'s python3-pylsp).',
  codeRequestTimeoutSeconds: 'Longest wait for one language server answer; then E_TIMEOUT (the request is cancelled).',
  codeReadyTimeoutSeconds: 'Longest wait for a language server to start and load a project, or for diagnostics of a new document version; answers then say they gave up.',
  codeIdleStopMinutes: 'A language server unused this long is stopped; the next request starts it again.',
  codeMaxMessageBytes: 'Largest message a language server may send; one larger stops that server (it restarts on the next request).',
  codeDiagnosticsMaxFiles: 'Most source files code_diagnostics without a path opens; the answer says when the cap cut the pass.',
  codeMaxOpenDocuments: 'Most documents one language server keeps open; the least recently used is closed past it.',
  codePageSize: 'Entries per code_references, code_symbols and code_diagnostics page.',
  syncMaxUpdateBytes: 'Largest message a sync client may send (one Yjs update); a larger one closes its connection (4413).',
  syncMaxDocumentBytes: 'Largest a synced document may grow in memory (its stored state plus updates since); past it, updates are refused (4413).',
  syncMessagesPerSecond: 'Messages one sync connection may send per second; past it, reading from that client pauses (nothing is lost).',
  syncBytesPerSecond: 'Bytes one sync connection may send per second; past it, reading from that client pauses.',
  syncWriteDebounceMs: 'Quiet time after a human\'s last keystroke in a synced file or note before it is written (to disk, or to the note).',
  syncWriteMaxDelayMs: 'Longest a human\'s edit in a synced file or note waits to be written while they keep typing.',
  syncCompactAfterUpdates: 'Updates after which a synced document is stored again as one snapshot.',
  syncUnloadAfterMs: 'How long a synced document nobody has open stays in memory.',
  syncMaxConnectionsPerCredential: 'Most sync connections (one per open document) one token or JWT subject may hold at once; past it, a connection is refused (close 4429).',
  refactorIdleMinutes: 'How long a workspace\'s TypeScript project stays loaded for refactors after its last use.',
  refactorMaxProjects: 'TypeScript projects kept loaded at once (about 0.5 MB per source file); the least recently used goes first.',
  refactorMaxSourceFiles: 'Most source files a workspace\'s TypeScript project may have for refactors; a larger one is refused.',
  refactorWorkerHeapMb: 'Heap of the refactoring worker thread, which holds every warm TypeScript project; a project that does not fit fails its refactor (E_TOO_LARGE).',
  refactorTimeoutSeconds: 'Longest one TypeScript refactor may take to plan; then E_TIMEOUT (the worker is restarted, warm projects reload).',
  redactKeys: 'Argument keys whose values are never stored in the action log.',
};

export function envName(key: string): string {
  return `CODEBUDDY_${key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}`;
}
