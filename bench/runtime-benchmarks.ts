/**
 * Issue 4's figures for the local runtime, over stdio like every agent call: a one-shot
 * `exec echo hi`, and a terminal round trip (type a line, wait for its output).
 */
import { performance } from 'node:perf_hooks';
import type { RunningServer } from './mcp-servers.js';
import { summarize, type Summary } from './stats.js';

export interface RuntimeFigures {
  exec: Summary;
  terminalRoundTrip: Summary;
}

const RUNS = 200;
const WARMUP = 20;

type CallResult = { structuredContent?: Record<string, unknown>; isError?: boolean; content?: Array<{ text?: string }> };

async function call(server: RunningServer, name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const result = (await server.client.callTool({ name, arguments: args })) as CallResult;
  if (result.isError) throw new Error(`${name}: ${result.content?.[0]?.text ?? 'failed'}`);
  return result.structuredContent ?? {};
}

export async function benchLocalRuntime(ours: RunningServer): Promise<RuntimeFigures> {
  const exec: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const started = performance.now();
    const out = await call(ours, 'exec', { command: ['echo', 'hi'] });
    if (i >= WARMUP) exec.push(performance.now() - started);
    if (out.stdout !== 'hi\n') throw new Error(`exec echo hi answered ${JSON.stringify(out.stdout)}`);
  }

  const { id } = (await call(ours, 'terminal_open', { shell: '/bin/sh' })) as { id: string };
  let since = (await call(ours, 'terminal_read', { id })).next as number;
  const roundTrips: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const started = performance.now();
    // The marker is split where it is typed, so only the command's output matches, not its echo.
    await call(ours, 'terminal_write', { id, input: `echo rt-""${i}`, keys: ['enter'] });
    const read = await call(ours, 'terminal_read', { id, since, wait_for: `^rt-${i}$`, timeout_s: 10 });
    if (read.matched !== true) throw new Error(`terminal round trip ${i} did not see its output`);
    since = read.next as number;
    if (i >= WARMUP) roundTrips.push(performance.now() - started);
  }
  await call(ours, 'terminal_close', { id });
  return { exec: summarize(exec), terminalRoundTrip: summarize(roundTrips) };
}
