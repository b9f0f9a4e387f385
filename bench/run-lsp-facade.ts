/**
 * Runs the LSP facade benchmark alone (`node --import tsx bench/run-lsp-facade.ts`) and prints
 * its section of RESULTS.md; `npm run bench` runs it with the others.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { benchLspFacade, lspFacadeSection } from './lsp-facade-benchmarks.js';

const workDir = join(import.meta.dirname, '.work');
mkdirSync(workDir, { recursive: true });
const figures = await benchLspFacade(workDir);
process.stdout.write(`${lspFacadeSection(figures)}\n`);
process.exit(0);
