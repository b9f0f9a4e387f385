import { parentPort, workerData } from 'node:worker_threads';
import type { Node, Query, Tree } from 'web-tree-sitter';
import { lowerThisThreadPriority } from '../../core/module-worker.js';
import { GrammarLoader, QueryCompileError, type LoadedGrammar } from './grammar-loader.js';
import { buildOutline, type Definition } from './outline-builder.js';
import type { CompileResult, OutlineResult, QueryCapture, QueryResult, SyntaxJob, SyntaxRequest, SyntaxResponse, SyntaxWorkerData } from './syntax-protocol.js';

/*
 * A syntax worker: parses and queries off the main thread, so a huge file or a pathological
 * query costs this thread's time, never the event loop every client shares. Jobs arrive
 * one at a time (the pool sends the next when this one answers).
 */

const MAX_CAPTURE_TEXT = 300;

lowerThisThreadPriority();

const loader = new GrammarLoader(new Map((workerData as SyntaxWorkerData).grammars.map((grammar) => [grammar.name, grammar])));

/** Tree-sitter asks this often while it works; true stops it. */
function deadlineCheck(deadline: number): { expired: () => boolean; callback: () => boolean } {
  let expired = false;
  return {
    expired: () => expired,
    callback: () => (expired ||= Date.now() > deadline),
  };
}

function parse(grammar: LoadedGrammar, text: string, deadline: number): Tree | undefined {
  const check = deadlineCheck(deadline);
  return grammar.parser.parse(text, null, { progressCallback: check.callback }) ?? undefined;
}

function outline(grammar: LoadedGrammar, text: string, deadline: number): OutlineResult {
  const tree = parse(grammar, text, deadline);
  if (!tree) return { symbols: [], timedOut: true };
  try {
    const check = deadlineCheck(deadline);
    const matches = grammar.symbols.matches(tree.rootNode, { progressCallback: check.callback });
    const definitions: Definition[] = [];
    for (const match of matches) {
      let node: Node | undefined;
      let kind = '';
      let name: string | undefined;
      let scope: string | undefined;
      for (const capture of match.captures) {
        if (capture.name.startsWith('definition.')) {
          node = capture.node;
          kind = capture.name.slice('definition.'.length);
        } else if (capture.name === 'name') name = capture.node.text;
        else if (capture.name === 'scope') scope = capture.node.text;
      }
      if (!node || name === undefined) continue;
      definitions.push({
        kind,
        name,
        ...(scope === undefined ? {} : { scope }),
        patternIndex: match.patternIndex,
        startIndex: node.startIndex,
        endIndex: node.endIndex,
        start: node.startPosition,
        end: node.endPosition,
      });
    }
    return { symbols: buildOutline(definitions), timedOut: check.expired() };
  } finally {
    tree.delete();
  }
}

function runQuery(grammar: LoadedGrammar, query: Query, job: Extract<SyntaxJob, { kind: 'query' }>, deadline: number): QueryResult {
  const tree = parse(grammar, job.text, deadline);
  if (!tree) return { captures: [], total: 0, exceededMatchLimit: false, timedOut: true };
  try {
    const check = deadlineCheck(deadline);
    const found = query.captures(tree.rootNode, { matchLimit: job.matchLimit, progressCallback: check.callback });
    let lines: string[] | undefined;
    const captures: QueryCapture[] = found.slice(job.skip, job.skip + job.limit).map(({ name, node }) => {
      lines ??= job.text.split('\n');
      const line = (lines[node.startPosition.row] ?? '').replace(/\r$/, '');
      return {
        capture: name,
        line: node.startPosition.row + 1,
        column: node.startPosition.column + 1,
        end_line: node.endPosition.row + 1,
        end_column: node.endPosition.column + 1,
        text: line.length > MAX_CAPTURE_TEXT ? `${line.slice(0, MAX_CAPTURE_TEXT)}…` : line,
      };
    });
    return { captures, total: found.length, exceededMatchLimit: query.didExceedMatchLimit(), timedOut: check.expired() };
  } finally {
    tree.delete();
  }
}

async function handle(job: SyntaxRequest): Promise<OutlineResult | CompileResult | QueryResult> {
  const grammar = await loader.grammar(job.language);
  parentPort!.postMessage({ id: job.id, loaded: true } satisfies SyntaxResponse);
  const deadline = Date.now() + job.budgetMs;
  switch (job.kind) {
    case 'outline':
      return outline(grammar, job.text, deadline);
    case 'compile':
      return { captureNames: [...loader.query(grammar, job.source).captureNames] };
    case 'query':
      return runQuery(grammar, loader.query(grammar, job.source), job, deadline);
  }
}

parentPort!.on('message', (request: SyntaxRequest) => {
  handle(request).then(
    (result) => parentPort!.postMessage({ id: request.id, ok: true, result } satisfies SyntaxResponse),
    (error: unknown) => {
      const failure = error instanceof QueryCompileError ? error.failure : { code: 'E_INTERNAL' as const, message: (error as Error)?.message ?? String(error) };
      parentPort!.postMessage({ id: request.id, ok: false, failure } satisfies SyntaxResponse);
    },
  );
});
