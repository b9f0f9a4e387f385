import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpClient } from '../helpers/mcp-clients.js';
import { closeAgentAndApprover, startWithAgentAndApprover } from '../helpers/agent-and-approver.js';
import type { TestServer } from '../helpers/test-server.js';

// Row 3 of the hostile review: `wait_for: "^(a+)+b$"` on a line of a's blocked the event
// loop for every tenant (27 a's: 1.5 s, doubling per character). The built-in file_search
// and policy command rules built JavaScript RegExps from tenant text the same way.
const CATASTROPHIC = '^(a+)+b$';
const A_LINE = 'a'.repeat(40); // 2^40 steps for a backtracking engine: hours
/**
 * The longest healthz answer allowed while a catastrophic pattern is judged. A backtracking
 * engine holds the loop for hours on A_LINE; on a quiet machine re2 keeps healthz under 10 ms,
 * but CI's 2 cores shared with other test files cost 50 ms of scheduling now and then.
 */
const MAX_STALL_MS = 250;

/**
 * Runs `call` while polling /healthz every 10 ms and sampling the event loop (the server
 * runs in this process, so its stalls are ours): the longest healthz answer and the
 * longest event-loop delay seen during the call.
 */
async function underWatch<T>(server: TestServer, call: () => Promise<T>): Promise<{ result: T; healthzMaxMs: number; loopMaxMs: number; elapsedMs: number }> {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let healthzMaxMs = 0;
  let done = false;
  const poll = (async () => {
    while (!done) {
      const started = performance.now();
      const answer = await fetch(new URL('/healthz', server.url));
      await answer.arrayBuffer();
      healthzMaxMs = Math.max(healthzMaxMs, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  const started = performance.now();
  const result = await call();
  const elapsedMs = performance.now() - started;
  done = true;
  await poll;
  loop.disable();
  return { result, healthzMaxMs, loopMaxMs: loop.max / 1e6, elapsedMs };
}

describe('regexes from agents cannot stall the server', () => {
  let server: TestServer;
  let agent: McpClient;
  let approver: McpClient;
  let root: string;

  beforeAll(async () => {
    ({ server, agent, approver } = await startWithAgentAndApprover({ searchEngine: 'builtin' }));
    root = (await agent.call('workspace_create', { name: 'main' })).structured!.root as string;
  });

  afterAll(async () => {
    await closeAgentAndApprover({ server, agent, approver });
  });

  it('answers terminal_read wait_for "^(a+)+b$" on a line of a\'s within its timeout, healthz fast meanwhile', async () => {
    const id = (await agent.call('terminal_open', { shell: '/bin/sh' })).structured!.id as string;
    await agent.call('terminal_write', { id, input: `printf '%s\\n' ${A_LINE}`, keys: ['enter'] });
    expect((await agent.call('terminal_read', { id, wait_for: `${A_LINE}$`, timeout_s: 5 })).structured).toMatchObject({ matched: true });

    // The same wait with a plain pattern: what the process stalls anyway (GC, the test's own clients).
    const baseline = await underWatch(server, () => agent.call('terminal_read', { id, wait_for: 'zzz', timeout_s: 2 }));
    const watched = await underWatch(server, () => agent.call('terminal_read', { id, wait_for: CATASTROPHIC, timeout_s: 2 }));
    console.log(
      `wait_for ${CATASTROPHIC} on ${A_LINE.length} a's: answered in ${watched.elapsedMs.toFixed(0)} ms; healthz max ${watched.healthzMaxMs.toFixed(1)} ms; longest event-loop stall ${watched.loopMaxMs.toFixed(1)} ms` +
        ` (baseline with wait_for "zzz": healthz max ${baseline.healthzMaxMs.toFixed(1)} ms, stall ${baseline.loopMaxMs.toFixed(1)} ms)`,
    );
    expect(watched.result.structured).toMatchObject({ matched: false });
    expect(watched.elapsedMs).toBeLessThan(4000);
    expect(watched.healthzMaxMs).toBeLessThan(MAX_STALL_MS);
    await agent.call('terminal_close', { id });
  });

  it('keeps wait_for semantics agents rely on (multiline ^ and $) and refuses what needs backtracking', async () => {
    const id = (await agent.call('terminal_open', { shell: '/bin/sh' })).structured!.id as string;
    await agent.call('terminal_write', { id, input: 'echo rea""dy; echo done', keys: ['enter'] });
    // `done` starts a line whatever the prompt did (the shell may print it after the echoed input).
    expect((await agent.call('terminal_read', { id, wait_for: '^done$', timeout_s: 5 })).structured).toMatchObject({ matched: true });
    const lookahead = await agent.call('terminal_read', { id, wait_for: 'x(?=y)', timeout_s: 1 });
    expect(lookahead).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect(lookahead.meta?.['codebuddy/error']).toMatchObject({ field: 'wait_for' });
    expect(lookahead.text).toContain('lookarounds');
    await agent.call('terminal_close', { id });
  });

  it('answers the built-in file_search with "^(a+)+b$" over a file of a\'s at once, healthz fast meanwhile', async () => {
    writeFileSync(join(root, 'as.txt'), `${A_LINE}\n`.repeat(200));
    const watched = await underWatch(server, () => agent.call('file_search', { pattern: CATASTROPHIC, regex: true }));
    console.log(`builtin file_search ${CATASTROPHIC}: answered in ${watched.elapsedMs.toFixed(0)} ms; healthz max ${watched.healthzMaxMs.toFixed(1)} ms; longest event-loop stall ${watched.loopMaxMs.toFixed(1)} ms`);
    expect(watched.result).toMatchObject({ isError: false, text: 'no matches' });
    expect(watched.healthzMaxMs).toBeLessThan(MAX_STALL_MS);

    expect((await agent.call('file_search', { pattern: 'A+$', regex: true, ignore_case: true })).structured).toMatchObject({ total: 200 });
    const backreference = await agent.call('file_search', { pattern: '(a)\\1', regex: true });
    expect(backreference).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect(backreference.meta?.['codebuddy/error']).toMatchObject({ field: 'pattern' });
    // A literal search is literal on the same engine.
    expect((await agent.call('file_search', { pattern: '(a+)+' })).text).toBe('no matches');
  });

  it('judges exec against a catastrophic command rule at once, and refuses a rule re2 cannot run', async () => {
    const refused = await approver.call('policy_set', { preset: 'trusted', rules: [{ command: '(rm)\\s+\\1', decision: 'deny' }] });
    expect(refused).toMatchObject({ isError: true, code: 'E_INVALID_ARGUMENT' });
    expect(refused.meta?.['codebuddy/error']).toMatchObject({ field: 'rules.0.command' });

    expect((await approver.call('policy_set', { preset: 'trusted', rules: [{ command: CATASTROPHIC, decision: 'deny' }] })).isError).toBe(false);
    const watched = await underWatch(server, () => agent.call('exec', { command: `echo ${A_LINE}` }));
    console.log(`exec judged by command rule ${CATASTROPHIC}: ${watched.elapsedMs.toFixed(0)} ms; healthz max ${watched.healthzMaxMs.toFixed(1)} ms; longest event-loop stall ${watched.loopMaxMs.toFixed(1)} ms`);
    expect(watched.result.structured).toMatchObject({ exit_code: 0 });
    expect(watched.healthzMaxMs).toBeLessThan(MAX_STALL_MS);
    await approver.call('policy_set', { preset: 'trusted', rules: [] });
  });
});
