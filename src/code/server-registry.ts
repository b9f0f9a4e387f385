import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { z } from 'zod';
import { pathGlob } from '../core/path-glob.js';

/**
 * The language servers CodeBuddy knows, by id. Built in: `typescript`
 * (typescript-language-server 5 on TypeScript 5.9), `python` (pyright, or pylsp when
 * `codePythonServer` says so) and `go` (gopls, where installed). The `codeServers` setting adds
 * servers or replaces built-in ones by id, with the same shape as below.
 */
export const serverSpecSchema = z.object({
  id: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'lower-case letters, digits, - and _'),
  /**
   * argv per runtime; a runtime without one has no such server. `{node}` is the server's own
   * Node.js binary and `{modules}` its node_modules directory (both readable in the sandbox).
   */
  command: z.object({ local: z.array(z.string().min(1)).min(1).optional(), docker: z.array(z.string().min(1)).min(1).optional() }),
  env: z.record(z.string(), z.string()).default({}),
  /** Language ids and the workspace-relative file globs each covers. */
  languages: z.array(z.object({ id: z.string().min(1), patterns: z.array(z.string().min(1)).min(1) })).min(1),
  initializationOptions: z.unknown().optional(),
  /** What the server is told for `workspace/configuration` (by section, dotted). */
  settings: z.record(z.string(), z.unknown()).default({}),
  /** Files whose presence at the workspace root makes the server relevant to the whole workspace (code_diagnostics without path, code_symbols by query). */
  rootMarkers: z.array(z.string().min(1)).default([]),
  /**
   * How fresh diagnostics are obtained: `auto` pulls (`textDocument/diagnostic`) when the server
   * offers it, else waits for pushed ones of the document's version; `tsserver` asks
   * typescript-language-server's tsserver directly (it pushes without versions).
   */
  diagnostics: z.enum(['auto', 'tsserver']).default('auto'),
  /**
   * Open files of its languages that an agent creates or changes, so the next answer counts
   * them at once: typescript-language-server's tsserver adds a new file to its project only
   * when it is opened or, a moment later, when its own file watching notices it.
   */
  openChangedFiles: z.boolean().default(false),
});

export type ServerSpecInput = z.input<typeof serverSpecSchema>;
export type ServerSpec = z.output<typeof serverSpecSchema>;

const TS_LANGUAGES = [
  { id: 'typescript', patterns: ['**/*.ts', '**/*.mts', '**/*.cts'] },
  { id: 'typescriptreact', patterns: ['**/*.tsx'] },
  { id: 'javascript', patterns: ['**/*.js', '**/*.mjs', '**/*.cjs'] },
  { id: 'javascriptreact', patterns: ['**/*.jsx'] },
];
const PY_LANGUAGES = [{ id: 'python', patterns: ['**/*.py', '**/*.pyi'] }];
const PY_MARKERS = ['pyproject.toml', 'setup.py', 'setup.cfg', 'requirements.txt', 'pyrightconfig.json'];

const builtIn: Record<string, ServerSpecInput> = {
  typescript: {
    id: 'typescript',
    command: { local: ['{node}', '{modules}/typescript-language-server/lib/cli.mjs', '--stdio'], docker: ['typescript-language-server', '--stdio'] },
    languages: TS_LANGUAGES,
    rootMarkers: ['tsconfig.json', 'jsconfig.json', 'package.json'],
    diagnostics: 'tsserver',
    openChangedFiles: true,
  },
  pyright: {
    id: 'python',
    command: { local: ['{node}', '{modules}/pyright/langserver.index.js', '--stdio'], docker: ['pyright-langserver', '--stdio'] },
    languages: PY_LANGUAGES,
    rootMarkers: PY_MARKERS,
    settings: { python: { analysis: { autoSearchPaths: true, diagnosticMode: 'openFilesOnly' } } },
  },
  pylsp: {
    id: 'python',
    // Debian's pylsp, by its absolute path: the python first on PATH may be another one without
    // it. Isolated (-I): `-m` would put the workspace first on sys.path, and a project's own
    // ast.py or json.py would then replace the standard library's inside the server (it died).
    command: { local: ['/usr/bin/python3', '-I', '-m', 'pylsp'], docker: ['/usr/bin/python3', '-I', '-m', 'pylsp'] },
    languages: PY_LANGUAGES,
    rootMarkers: PY_MARKERS,
    // Diagnostics come from pyflakes (python3-pyflakes); pycodestyle's style warnings and
    // mccabe's complexity notes would drown them. An outline lists what a file declares, not
    // what it imports.
    settings: { pylsp: { plugins: { pycodestyle: { enabled: false }, mccabe: { enabled: false }, jedi_symbols: { include_import_symbols: false } } } },
  },
  go: {
    id: 'go',
    command: existsSync('/usr/bin/gopls') ? { local: ['/usr/bin/gopls'] } : {},
    // No module downloads: workspaces have no network, and a server must not wait on one.
    env: { GOPROXY: 'off', GOFLAGS: '-mod=mod', GOCACHE: '/tmp/go-cache', GOPATH: '/tmp/go' },
    languages: [{ id: 'go', patterns: ['**/*.go'] }],
    rootMarkers: ['go.mod'],
  },
};

/** The host directory holding the server's own packages (typescript-language-server, pyright). */
function hostModules(): string {
  const require = createRequire(import.meta.url);
  return dirname(dirname(require.resolve('typescript-language-server/package.json')));
}

export interface RegistryOptions {
  pythonServer: 'pyright' | 'pylsp';
  extra: readonly ServerSpecInput[];
}

/** The servers of this CodeBuddy, the language of a file, and what each runtime starts. */
export class ServerRegistry {
  private readonly specs: ServerSpec[];
  private readonly matchers: Map<string, { id: string; matches: (path: string) => boolean }[]>;
  private readonly modules = hostModules();

  constructor(options: RegistryOptions) {
    const byId = new Map<string, ServerSpec>();
    for (const input of [builtIn.typescript!, builtIn[options.pythonServer]!, builtIn.go!, ...options.extra]) {
      const spec = serverSpecSchema.parse(input);
      byId.set(spec.id, spec);
    }
    this.specs = [...byId.values()];
    this.matchers = new Map(this.specs.map((spec) => [spec.id, spec.languages.flatMap(({ id, patterns }) => patterns.map((pattern) => ({ id, matches: pathGlob(pattern) })))]));
  }

  get(id: string): ServerSpec | undefined {
    return this.specs.find((spec) => spec.id === id);
  }

  all(): readonly ServerSpec[] {
    return this.specs;
  }

  /** The first server (in registry order) that has a command for this runtime and covers the path, with the path's language id. */
  forPath(path: string, runtime: 'local' | 'docker'): { spec: ServerSpec; languageId: string } | undefined {
    for (const spec of this.specs) {
      if (!spec.command[runtime]) continue;
      const language = this.matchers.get(spec.id)!.find((matcher) => matcher.matches(path));
      if (language) return { spec, languageId: language.id };
    }
    return undefined;
  }

  /** Whether the server covers this path. */
  covers(spec: ServerSpec, path: string): boolean {
    return this.matchers.get(spec.id)!.some((matcher) => matcher.matches(path));
  }

  /**
   * The argv a runtime starts, placeholders filled, and the host paths it needs to read (what
   * `{node}` and `{modules}` name: a local sandbox exposes them read-only, wherever CodeBuddy is
   * installed); undefined when the runtime has none.
   */
  command(spec: ServerSpec, runtime: 'local' | 'docker'): { argv: string[]; readOnly: string[] } | undefined {
    const template = spec.command[runtime];
    if (!template) return undefined;
    const readOnly = [
      ...(template.some((arg) => arg.includes('{node}')) ? [process.execPath] : []),
      ...(template.some((arg) => arg.includes('{modules}')) ? [this.modules] : []),
    ];
    return { argv: template.map((arg) => arg.replaceAll('{node}', process.execPath).replaceAll('{modules}', this.modules)), readOnly };
  }
}
