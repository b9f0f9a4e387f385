/**
 * Issue 8's figure for tree-sitter: `code_outline` of a generated 2,000-line TypeScript
 * file over stdio like every agent call, warm (the worker started and the grammar loaded),
 * and the first call of a fresh server (worker start, wasm load, first parse) apart.
 */
import { performance } from 'node:perf_hooks';
import type { RunningServer } from './mcp-servers.js';
import { summarize, type Summary } from './stats.js';

export interface OutlineFigures {
  lines: number;
  symbols: number;
  /** The first call: the worker thread starts and the grammar's wasm loads. */
  coldMs: number;
  warm: Summary;
}

const RUNS = 200;
const WARMUP = 20;
const WORKSPACE = 'bench-outline';
const FILE = 'generated/cart-2000.ts';

type CallResult = { structuredContent?: Record<string, unknown>; isError?: boolean; content?: Array<{ text?: string }> };

async function call(server: RunningServer, name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const result = (await server.client.callTool({ name, arguments: args })) as CallResult;
  if (result.isError) throw new Error(`${name}: ${result.content?.[0]?.text ?? 'failed'}`);
  return result.structuredContent ?? {};
}

/** 2,000 lines of ordinary TypeScript: per block of 20 lines, an interface with two members, a class with a field and two methods, a function: 8 symbols. */
export function generatedTypeScript(blocks = 100): { text: string; symbols: number } {
  const lines: string[] = [];
  for (let i = 0; i < blocks; i++) {
    lines.push(
      `export interface Item${i} {`,
      `  id: number;`,
      `  label(): string;`,
      `}`,
      ``,
      `export class Cart${i} {`,
      `  private items: Item${i}[] = [];`,
      ``,
      `  addItem(item: Item${i}): void {`,
      `    this.items.push(item);`,
      `  }`,
      ``,
      `  total(): number {`,
      `    return this.items.reduce((sum, item) => sum + item.id, ${i});`,
      `  }`,
      `}`,
      ``,
      `export function describe${i}(cart: Cart${i}): string {`,
      `  return \`cart ${i}: \${cart.total()}\`;`,
      `}`,
    );
  }
  return { text: `${lines.join('\n')}\n`, symbols: blocks * 8 };
}

export async function benchCodeOutline(server: RunningServer): Promise<OutlineFigures> {
  const { text, symbols } = generatedTypeScript();
  await call(server, 'workspace_create', { name: WORKSPACE });
  await call(server, 'file_write', { workspace: WORKSPACE, path: FILE, content: text });
  const check = (out: Record<string, unknown>) => {
    if (out.total !== symbols) throw new Error(`code_outline found ${String(out.total)} symbols, expected ${symbols}`);
  };
  const coldStarted = performance.now();
  check(await call(server, 'code_outline', { workspace: WORKSPACE, path: FILE }));
  const coldMs = performance.now() - coldStarted;
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const started = performance.now();
    const out = await call(server, 'code_outline', { workspace: WORKSPACE, path: FILE });
    if (i >= WARMUP) samples.push(performance.now() - started);
    check(out);
  }
  return { lines: text.split('\n').length - 1, symbols, coldMs, warm: summarize(samples) };
}
