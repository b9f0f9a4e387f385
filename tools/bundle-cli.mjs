// After tsc: the command (dist/cli/main.js) and what it imports become one file, in place.
// Why: an MCP client starts a stdio server for every session, and loading ~300 ES modules
// one by one (ours, zod's, the MCP SDK's) was most of its cold start. The other modules of
// dist/ stay as tsc wrote them: the worker threads start from them, and benchmarks import them.
//
// Modules imported lazily (`await import(...)`) are bundled too but still evaluated only
// when imported. Left outside, loaded from node_modules as before: native addons, packages
// that find files of their own at run time (wasm, language servers, worker scripts), some
// CommonJS packages (cheap to load as they are), and those a test checks are not loaded early.
import { readdir, readFile, rm } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { build } from 'esbuild';

const OUTFILE = 'dist/cli/main.js';

const EXTERNAL = [
  'better-sqlite3',
  'node-pty',
  'web-tree-sitter',
  '@vscode/tree-sitter-wasm',
  'typescript',
  'ts-morph',
  'pyright',
  'typescript-language-server',
  'dockerode',
  '@xterm/headless',
  'pino',
  'fastify',
  '@fastify/*',
  'vscode-jsonrpc',
  'vscode-languageserver-protocol',
  // Imported with the first JWT only: outside, a test can see that it is not loaded before.
  'jose',
];

/**
 * Every bundled module keeps its own `import.meta.url` (where it was before bundling,
 * relative to the bundle, so the bundle still works wherever the package is installed):
 * modules find files beside them (migrations, grammars, package.json, worker scripts).
 */
const ownUrls = {
  name: 'own-import-meta-url',
  setup(bundler) {
    bundler.onLoad({ filter: /\.[cm]?js$/ }, async ({ path }) => {
      const text = await readFile(path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const fromBundle = relative(dirname(OUTFILE), path).split('\\').join('/');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`), loader: 'js' };
    });
  },
};

// The chunks of an earlier build: their names change with their contents.
for (const name of await readdir(dirname(OUTFILE))) if (name.startsWith('bundled-')) await rm(`${dirname(OUTFILE)}/${name}`);

await build({
  entryPoints: [OUTFILE],
  outdir: dirname(OUTFILE),
  // A lazily imported module's own imports of external packages load only with it (one
  // file, without splitting, would import them all at start): its code goes in a chunk
  // beside the entry, where every module's URL above stays right.
  splitting: true,
  chunkNames: 'bundled-[hash]',
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: EXTERNAL,
  // CommonJS bundled into an ES module calls `require` for Node's built-ins.
  banner: { js: "import { createRequire as createRequireOfBundle } from 'node:module';\nconst require = createRequireOfBundle(import.meta.url);" },
  plugins: [ownUrls],
  sourcemap: 'linked',
  logLevel: 'warning',
});
