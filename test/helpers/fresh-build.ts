import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Vitest global setup: tests that spawn `codebuddy` run the built dist/, so a dist/ older
 * than src/ would test yesterday's code. Rebuild first when it is.
 */
export default function ensureFreshBuild(): void {
  const root = join(import.meta.dirname, '..', '..');
  let built = 0;
  try {
    built = newestMtime(join(root, 'dist'));
  } catch {
    built = 0;
  }
  if (built >= newestMtime(join(root, 'src'))) return;
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('npm run build failed: the tests need a current dist/');
}
