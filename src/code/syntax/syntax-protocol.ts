/**
 * Messages between the syntax pool (main thread) and its workers. A job carries its time
 * budget, counted from when its grammar is loaded (starting a worker and compiling a 5 MB
 * wasm grammar are the server's costs, not the file's): the worker stops parsing or
 * querying there and says so; the pool terminates a worker that has not answered shortly
 * after (a regex predicate in a query runs in JavaScript, where no progress callback can
 * stop it).
 */

/** One symbol of an outline; lines and columns 1-based, columns in UTF-16 code units. */
export interface OutlineSymbol {
  kind: string;
  name: string;
  /** Enclosing symbols' names and its own, `.`-joined: `Cart.addItem`. */
  name_path: string;
  depth: number;
  start_line: number;
  start_column: number;
  end_line: number;
  end_column: number;
}

export interface QueryCapture {
  capture: string;
  line: number;
  column: number;
  end_line: number;
  end_column: number;
  /** The text of the capture's first line, cut to a sane length. */
  text: string;
}

export type SyntaxJob =
  | { kind: 'outline'; language: string; text: string; budgetMs: number }
  | { kind: 'compile'; language: string; source: string; budgetMs: number }
  | {
      kind: 'query';
      language: string;
      source: string;
      text: string;
      /** Captures of this file already answered (a cursor into the middle of it). */
      skip: number;
      /** Most captures wanted after `skip`. */
      limit: number;
      matchLimit: number;
      budgetMs: number;
    };

export interface OutlineResult {
  symbols: OutlineSymbol[];
  /** The parse or the query stopped at the end of its budget. */
  timedOut: boolean;
}

export interface CompileResult {
  captureNames: string[];
}

export interface QueryResult {
  captures: QueryCapture[];
  /** Captures in the file in all (skipped ones included). */
  total: number;
  /** Some matches were dropped: more were in progress at once than the match limit allows. */
  exceededMatchLimit: boolean;
  timedOut: boolean;
}

export type SyntaxResult<J extends SyntaxJob> = J extends { kind: 'outline' } ? OutlineResult : J extends { kind: 'compile' } ? CompileResult : QueryResult;

/** A refusal the worker explains (a query that does not compile, an unknown language). */
export interface SyntaxFailure {
  code: 'E_INVALID_ARGUMENT' | 'E_INTERNAL';
  message: string;
  details?: Record<string, unknown>;
}

export type SyntaxRequest = SyntaxJob & { id: number };
export type SyntaxResponse =
  /** The job's grammar is loaded: its budget starts now. */
  | { id: number; loaded: true }
  | { id: number; ok: true; result: OutlineResult | CompileResult | QueryResult }
  | { id: number; ok: false; failure: SyntaxFailure };

/** What a worker is started with: the grammars it may load. */
export interface SyntaxWorkerData {
  grammars: { name: string; wasmPath: string; symbols: string }[];
}
