import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { CodeBuddyError } from '../../core/errors.js';

/** One language tree-sitter can parse, as the manifest names it, its files resolved. */
export interface Grammar {
  name: string;
  extensions: readonly string[];
  /** Absolute path of the wasm grammar. */
  wasmPath: string;
  /** The symbol query's source (`grammars/<file>.scm`). */
  symbols: string;
}

const entrySchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower-case letters, digits and _'),
  extensions: z.array(z.string().regex(/^\.[A-Za-z0-9_+-]+$/, 'like ".ts"')).min(1),
  wasm: z.string().min(1).regex(/\.wasm$/, 'a .wasm file'),
  symbols: z.string().regex(/^[A-Za-z0-9_-]+\.scm$/, 'a .scm file name in grammars/'),
});

const manifestSchema = z.object({ languages: z.array(z.unknown()).min(1) });

/**
 * The directory holding package.json: `grammars/` sits beside it, whether this module runs
 * from `src/` (tests, tsx) or from `dist/` (the built server).
 */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new CodeBuddyError('E_CONFIG', 'cannot find the package root (package.json) above the syntax module');
    dir = up;
  }
  return dir;
}

const PACKAGE_ROOT = packageRoot();
export const GRAMMARS_DIR = join(PACKAGE_ROOT, 'grammars');

/** 1-based line of the `index`-th element of the `languages` array in the manifest's text, for errors. */
function lineOfEntry(text: string, index: number): number | undefined {
  const start = text.indexOf('"languages"');
  if (start < 0) return undefined;
  let depth = 0;
  let seen = -1;
  let inString = false;
  for (let at = text.indexOf('[', start), line = text.slice(0, at).split('\n').length; at < text.length; at++) {
    const char = text[at]!;
    if (char === '\n') line++;
    if (inString) {
      if (char === '\\') at++;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') {
      if (depth === 1 && ++seen === index) return line; // a string where an object belongs
      inString = true;
    } else if (char === '[' || char === '{') {
      if (depth === 1 && ++seen === index) return line;
      depth++;
    } else if (char === ']' || char === '}') {
      if (--depth === 0) return undefined;
    } else if (depth === 1 && char !== ',' && !/\s/.test(char) && ++seen === index) {
      return line; // a bare value where an object belongs
    }
  }
  return undefined;
}

/**
 * `grammars/manifest.json`: which file extensions each grammar parses, where its wasm is
 * (a file in `grammars/`, or a package path resolved from node_modules, so npm's binaries
 * stay out of git) and its symbol query. Validated whole at start: a bad entry stops the
 * server with an error naming its line, rather than failing a call later.
 */
export class GrammarManifest {
  private readonly byName = new Map<string, Grammar>();
  private readonly byExtension = new Map<string, Grammar>();

  constructor(grammars: readonly Grammar[]) {
    for (const grammar of grammars) {
      this.byName.set(grammar.name, grammar);
      for (const extension of grammar.extensions) this.byExtension.set(extension.toLowerCase(), grammar);
    }
  }

  static load(dir = GRAMMARS_DIR): GrammarManifest {
    const file = join(dir, 'manifest.json');
    const text = readFileSync(file, 'utf8');
    const where = `${file}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new CodeBuddyError('E_CONFIG', `${where}: not JSON (${(error as Error).message})`);
    }
    const top = manifestSchema.safeParse(parsed);
    if (!top.success) throw new CodeBuddyError('E_CONFIG', `${where}: needs a non-empty "languages" array`);
    // Package paths resolve from CodeBuddy's own node_modules, wherever the manifest is.
    const resolveFrom = createRequire(join(PACKAGE_ROOT, 'package.json'));
    const grammars: Grammar[] = [];
    const owners = new Map<string, string>();
    top.data.languages.forEach((raw, index) => {
      const line = lineOfEntry(text, index);
      const at = `${where}${line === undefined ? '' : ` line ${line}`} (languages[${index}]${typeof (raw as { name?: unknown })?.name === 'string' ? ` "${(raw as { name: string }).name}"` : ''})`;
      const fail = (message: string): never => {
        throw new CodeBuddyError('E_CONFIG', `${at}: ${message}`);
      };
      const entry = entrySchema.safeParse(raw);
      if (!entry.success) {
        const issue = entry.error.issues[0]!;
        fail(`${issue.path.join('.') || 'entry'}: ${issue.message}`);
      }
      const { name, extensions, wasm, symbols } = entry.data!;
      if (grammars.some((grammar) => grammar.name === name)) fail(`language "${name}" is listed twice`);
      for (const extension of extensions) {
        const owner = owners.get(extension.toLowerCase());
        if (owner !== undefined) fail(`extension "${extension}" already belongs to "${owner}"`);
        owners.set(extension.toLowerCase(), name);
      }
      // A bare file name is a grammar shipped in grammars/; anything with a slash is a package path.
      let wasmPath = join(dir, wasm);
      if (wasm.includes('/')) {
        try {
          wasmPath = resolveFrom.resolve(wasm);
        } catch {
          fail(`wasm "${wasm}" is not found in node_modules`);
        }
      } else if (!existsSync(wasmPath)) {
        fail(`wasm "${wasm}" is not in ${dir}`);
      }
      const symbolsPath = join(dir, symbols);
      if (!existsSync(symbolsPath)) fail(`symbols "${symbols}" is not in ${dir}`);
      grammars.push({ name, extensions, wasmPath, symbols: readFileSync(symbolsPath, 'utf8') });
    });
    return new GrammarManifest(grammars);
  }

  get all(): Grammar[] {
    return [...this.byName.values()];
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  get extensions(): string[] {
    return [...this.byExtension.keys()];
  }

  grammar(name: string): Grammar | undefined {
    return this.byName.get(name);
  }

  /** The grammar for a file, by its extension; undefined when none parses it. */
  forPath(path: string): Grammar | undefined {
    return this.byExtension.get(extname(path).toLowerCase());
  }
}
