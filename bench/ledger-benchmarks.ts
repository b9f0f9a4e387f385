/**
 * The action ledger's cost: how fast the hash-chained audit trail appends, and how much
 * recording adds to a tool call, measured against the same call with recording switched off.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { summarize, type Summary } from './stats.js';
import { fromDist } from './from-dist.js';

type AppModule = typeof import('../src/app.js');
type ConfigModule = typeof import('../src/config/load-config.js');

export interface LedgerFigures {
  append: { events: number; seconds: number; eventsPerSecond: number; perEvent: Summary };
  latency: { recorded: Summary; unrecorded: Summary; addedP50: number };
}

const APPEND_EVENTS = 20_000;
const CALLS = 3_000;
const WARMUP = 300;

export async function benchLedger(workDir: string, treeDir: string, readTargets: string[]): Promise<LedgerFigures> {
  const { createApp } = await fromDist<AppModule>('app.js');
  const { loadConfig } = await fromDist<ConfigModule>('config/load-config.js');
  const appAt = (name: string, unrecorded: boolean) => {
    const dataDir = join(workDir, name);
    rmSync(dataDir, { recursive: true, force: true });
    return createApp(loadConfig({ env: {}, overrides: { dataDir, logLevel: 'warn' } }), unrecorded ? { unrecorded: true } : {});
  };

  // 1. Appends, each in its own transaction as the ledger writes them (WAL, chain on).
  const auditApp = appAt('ledger-append', false);
  const append = auditApp.db.transaction((i: number) =>
    auditApp.auditChain.append({ tenantId: 'bench', at: Date.now(), type: 'action.recorded', actor: 'bench/user', workspaceId: 'ws_bench', actionId: `act_${i}`, correlationId: randomUUID(), payload: { operation: 'file_read', effect: 'read', status: 'succeeded', error_code: null } }),
  );
  for (let i = 0; i < 500; i++) append(i);
  const perEvent: number[] = [];
  const started = performance.now();
  for (let i = 0; i < APPEND_EVENTS; i++) {
    const t = performance.now();
    append(i);
    perEvent.push(performance.now() - t);
  }
  const seconds = (performance.now() - started) / 1000;
  if (!auditApp.auditChain.verify('bench').ok) throw new Error('the benchmarked chain does not verify');
  auditApp.close();

  // 2. The same file_read through the registry, recorded and unrecorded, alternated call by call.
  const recorded = appAt('ledger-recorded', false);
  const unrecorded = appAt('ledger-unrecorded', true);
  const principal = { tenantId: 'local', userId: 'bench', role: 'agent' as const };
  const contexts = await Promise.all(
    [recorded, unrecorded].map(async (app) => ({
      app,
      context: { principal, correlationId: randomUUID(), signal: new AbortController().signal, logger: app.logger, defaultWorkspaceId: (await app.workspaces.adoptLocal(principal, treeDir)).id },
    })),
  );
  const samples: number[][] = [[], []];
  for (let i = 0; i < WARMUP + CALLS; i++) {
    const order = i % 2 === 0 ? [0, 1] : [1, 0];
    for (const which of order) {
      const { app, context } = contexts[which]!;
      const t = performance.now();
      await app.registry.invoke('file_read', { path: readTargets[i % readTargets.length] }, context);
      if (i >= WARMUP) samples[which]!.push(performance.now() - t);
    }
  }
  recorded.close();
  unrecorded.close();
  const [withRecording, withoutRecording] = samples.map(summarize) as [Summary, Summary];
  return {
    append: { events: APPEND_EVENTS, seconds, eventsPerSecond: APPEND_EVENTS / seconds, perEvent: summarize(perEvent) },
    latency: { recorded: withRecording, unrecorded: withoutRecording, addedP50: withRecording.p50 - withoutRecording.p50 },
  };
}
