/**
 * Runs the real-time sync benchmark alone (`node --import tsx bench/run-sync.ts`, after
 * `npm run build`: the servers run dist/) and prints its section of RESULTS.md; `npm run bench`
 * runs it with the others. `--cpu-prof DIR` writes a V8 CPU profile of the CodeBuddy server
 * into DIR (the peers are not profiled: the profile is for finding our own hot path).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { syncSection } from './report.js';
import { benchSync } from './sync-benchmarks.js';

const { values } = parseArgs({ options: { 'cpu-prof': { type: 'string' }, docs: { type: 'string' }, clients: { type: 'string' }, rounds: { type: 'string' } } });
const workDir = join(import.meta.dirname, '.work');
mkdirSync(workDir, { recursive: true });
const profileDir = values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']);
const figures = await benchSync(workDir, {
  ...(values.docs ? { docs: Number(values.docs) } : {}),
  ...(values.clients ? { clients: Number(values.clients) } : {}),
  ...(values.rounds ? { rounds: Number(values.rounds) } : {}),
  ...(profileDir ? { codeBuddyNodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] } : {}),
});
process.stdout.write(`${syncSection(figures)}\n`);
process.exit(0);
