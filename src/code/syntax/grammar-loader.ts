import { Language, Parser, Query } from 'web-tree-sitter';
import type { SyntaxFailure } from './syntax-protocol.js';

/** A loaded language: its parser (reused for every file) and its compiled symbol query. */
export interface LoadedGrammar {
  name: string;
  language: Language;
  parser: Parser;
  symbols: Query;
}

/** Compiled agent queries kept per worker; the oldest goes first. */
const MAX_CACHED_QUERIES = 32;

/** A query that does not compile, as tree-sitter explains it: an agent's mistake, not ours. */
export class QueryCompileError extends Error {
  constructor(readonly failure: SyntaxFailure) {
    super(failure.message);
  }
}

/** Line and column (1-based) of a character offset in a query's source. */
function positionIn(source: string, offset: number): { line: number; column: number } {
  const before = source.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

/**
 * The tree-sitter side of a syntax worker: the runtime initialised once, each grammar's
 * wasm loaded on first use and once only, its parser reused, its symbol query and agents'
 * queries compiled once (a bounded cache for the latter).
 */
export class GrammarLoader {
  private runtime: Promise<void> | undefined;
  private readonly loaded = new Map<string, Promise<LoadedGrammar>>();
  private readonly queries = new Map<string, Query>();

  constructor(private readonly grammars: ReadonlyMap<string, { wasmPath: string; symbols: string }>) {}

  grammar(name: string): Promise<LoadedGrammar> {
    let loading = this.loaded.get(name);
    if (!loading) {
      loading = this.load(name);
      this.loaded.set(name, loading);
      loading.catch(() => this.loaded.delete(name));
    }
    return loading;
  }

  private async load(name: string): Promise<LoadedGrammar> {
    const entry = this.grammars.get(name);
    if (!entry) throw new QueryCompileError({ code: 'E_INVALID_ARGUMENT', message: `no grammar named "${name}"`, details: { field: 'language' } });
    this.runtime ??= Parser.init();
    await this.runtime;
    const language = await Language.load(entry.wasmPath);
    const parser = new Parser();
    parser.setLanguage(language);
    // The manifest's own query: a failure here is a broken grammars/ file, reported as such.
    let symbols: Query;
    try {
      symbols = new Query(language, entry.symbols);
    } catch (error) {
      throw new Error(`grammars/${name} symbol query does not compile: ${(error as Error).message}`);
    }
    return { name, language, parser, symbols };
  }

  /** An agent's query compiled for a grammar, or a QueryCompileError naming where it breaks. */
  query(grammar: LoadedGrammar, source: string): Query {
    const key = `${grammar.name}\0${source}`;
    const cached = this.queries.get(key);
    if (cached) {
      this.queries.delete(key);
      this.queries.set(key, cached); // most recently used last
      return cached;
    }
    let query: Query;
    try {
      query = new Query(grammar.language, source);
    } catch (error) {
      const { index, kind } = error as { index?: number; kind?: unknown };
      const offset = typeof index === 'number' ? index : undefined;
      const where = offset === undefined ? '' : ` at offset ${offset} (line ${positionIn(source, offset).line}, column ${positionIn(source, offset).column})`;
      throw new QueryCompileError({
        code: 'E_INVALID_ARGUMENT',
        message: `the query does not compile for ${grammar.name}${where}: ${(error as Error).message}`,
        details: { field: 'query', ...(offset === undefined ? {} : { offset }), ...(typeof kind === 'number' ? { kind } : {}) },
      });
    }
    this.queries.set(key, query);
    if (this.queries.size > MAX_CACHED_QUERIES) {
      const [oldestKey, oldest] = this.queries.entries().next().value!;
      this.queries.delete(oldestKey);
      oldest.delete();
    }
    return query;
  }
}
