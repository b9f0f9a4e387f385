/**
 * Issue 4's figures for the local runtime, over stdio like every agent call: a one-shot
 * `exec echo hi`, and a terminal round trip (type a line, wait for its output); issue 7's
 * cost of the sandbox (the same exec on a server whose sandbox is turned off).
 * Commands run in a workspace the server makes (the adopted bench tree belongs to root,
 * and sandboxed commands never run as root).
 */
import { performance } from 'node:perf_hooks';
import type { RunningServer } from './mcp-servers.js';
import { summarize, type Summary } from './stats.js';

export interface RuntimeFigures {
  /** Sandboxed (bubblewrap), as every local command runs by default. */
  exec: Summary;
  terminalRoundTrip: Summary;
  /** Undefined when no Docker engine with the workspace image was there to measure. */
  docker?: { exec: Summary; createToReady: Summary };
}

const RUNS = 200;
const WARMUP = 20;

type CallResult = { structuredContent?: Record<string, unknown>; isError?: boolean; content?: Array<{ text?: string }> };

async function call(server: RunningServer, name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const result = (await server.client.callTool({ name, arguments: args })) as CallResult;
  if (result.isError) throw new Error(`${name}: ${result.content?.[0]?.text ?? 'failed'}`);
  return result.structuredContent ?? {};
}

const LOCAL = 'bench-local';

/** `exec echo hi` in a fresh local workspace, timed. */
export async function benchLocalExec(server: RunningServer): Promise<Summary> {
  await call(server, 'workspace_create', { name: LOCAL });
  const exec: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const started = performance.now();
    const out = await call(server, 'exec', { command: ['echo', 'hi'], workspace: LOCAL });
    if (i >= WARMUP) exec.push(performance.now() - started);
    if (out.stdout !== 'hi\n') throw new Error(`exec echo hi answered ${JSON.stringify(out.stdout)}`);
  }
  return summarize(exec);
}

export async function benchLocalRuntime(ours: RunningServer): Promise<RuntimeFigures> {
  const exec = await benchLocalExec(ours);
  const { id } = (await call(ours, 'terminal_open', { shell: '/bin/sh', workspace: LOCAL })) as { id: string };
  // As an agent should: wait for the first prompt before typing, or the prompt lands on the first output line.
  let since = (await call(ours, 'terminal_read', { id, wait_for: '[$#] $', timeout_s: 10 })).next as number;
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
  return { exec, terminalRoundTrip: summarize(roundTrips), ...(await benchDocker(ours)) };
}

const CREATES = 3;

/** The same exec in a container, and how long a Docker workspace takes from create to ready. */
async function benchDocker(ours: RunningServer): Promise<Pick<RuntimeFigures, 'docker'>> {
  const probe = (await ours.client.callTool({ name: 'workspace_create', arguments: { name: 'bench-docker-0', runtime: 'docker' } })) as CallResult;
  if (probe.isError) return {}; // no engine, or no image: the report says so
  const creates: number[] = [];
  for (let i = 1; i <= CREATES; i++) {
    const started = performance.now();
    await call(ours, 'workspace_create', { name: `bench-docker-${i}`, runtime: 'docker' });
    creates.push(performance.now() - started);
    await call(ours, 'workspace_delete', { workspace: `bench-docker-${i}` });
  }
  const exec: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const started = performance.now();
    const out = await call(ours, 'exec', { command: ['echo', 'hi'], workspace: 'bench-docker-0' });
    if (i >= WARMUP) exec.push(performance.now() - started);
    if (out.stdout !== 'hi\n') throw new Error(`container exec echo hi answered ${JSON.stringify(out.stdout)}`);
  }
  await call(ours, 'workspace_delete', { workspace: 'bench-docker-0' });
  return { docker: { exec: summarize(exec), createToReady: summarize(creates) } };
}
