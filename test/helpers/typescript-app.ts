import { execFile } from 'node:child_process';
import { cpSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const repository = join(import.meta.dirname, '..', '..');

/** The refactoring fixture: a small app with its own tests (fixtures/typescript-app). */
export const TYPESCRIPT_APP = join(repository, 'fixtures', 'typescript-app');
const TSC = require.resolve('typescript/bin/tsc');
const TSX_LOADER = pathToFileURL(require.resolve('tsx')).href;

/** Copies the fixture into a workspace root. */
export function copyTypescriptApp(root: string): void {
  cpSync(TYPESCRIPT_APP, root, { recursive: true });
}

/**
 * The real compiler over a project on disk: resolves with its output when `tsc --noEmit`
 * passes, rejects with it otherwise. A workspace copy has no node_modules of its own, so
 * @types come from the repository's.
 */
export async function typeCheck(root: string): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [TSC, '-p', join(root, 'tsconfig.json'), '--noEmit', '--skipLibCheck', '--typeRoots', join(repository, 'node_modules', '@types')], { timeout: 120_000 });
    return stdout;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    throw new Error(`tsc --noEmit failed in ${root}:\n${failed.stdout ?? ''}${failed.stderr ?? ''}`);
  }
}

/** The fixture's own tests (node --test through tsx, which honours the tsconfig `paths`). */
export async function runAppTests(root: string, files = ['test/cart.test.ts', 'test/pricing.test.ts']): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, ['--import', TSX_LOADER, '--test', ...files], { cwd: root, timeout: 120_000 });
    return stdout;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    throw new Error(`the fixture's tests failed in ${root}:\n${failed.stdout ?? ''}${failed.stderr ?? ''}`);
  }
}

/** Both checks: what every refactor must leave true. */
export async function assertAppHealthy(root: string, testFiles?: string[]): Promise<void> {
  await typeCheck(root);
  const output = await runAppTests(root, testFiles);
  if (!/^# fail 0$/m.test(output)) throw new Error(`the fixture's tests did not all pass:\n${output}`);
}
