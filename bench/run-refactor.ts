/**
 * Runs the refactoring benchmark alone (`npm run build && node --import tsx bench/run-refactor.ts`)
 * and prints its section of RESULTS.md; `npm run bench` runs it with the others.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { benchRefactor, refactorReport } from './refactor-benchmarks.js';

const workDir = join(import.meta.dirname, '.work');
mkdirSync(workDir, { recursive: true });
const report = refactorReport(await benchRefactor({ workDir }));
process.stdout.write(`${report.summary.map((row) => `| ${row.join(' | ')} |`).join('\n')}\n\n${report.section}\n`);
process.exit(0);
