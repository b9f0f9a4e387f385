import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** test/interop/ */
export const INTEROP_DIR = join(import.meta.dirname, '..');

/**
 * A client installed outside the root package (by `.ci/run`): its path, or why it is absent.
 * Locally an absent tool skips its tests with the reason printed; in CI (`CI=true`) every
 * tool must be there, so absence fails the file instead.
 */
export type Tool = { path: string; missing?: undefined } | { path?: undefined; missing: string };

function locate(label: string, path: string, installedBy: string): Tool {
  if (existsSync(path)) return { path };
  const missing = `${label} not found at ${path} (${installedBy})`;
  if (process.env.CI === 'true') throw new Error(`${missing}: CI must run every interop test`);
  console.warn(`skipping: ${missing}`);
  return { missing };
}

/** The official Python SDK (`mcp`, pinned in .ci/run) in a venv: `CODEBUDDY_INTEROP_VENV`, else test/interop/.venv. */
export function pythonSdk(): Tool {
  const venv = process.env.CODEBUDDY_INTEROP_VENV ?? join(INTEROP_DIR, '.venv');
  return locate('the Python MCP SDK venv', join(venv, 'bin', 'python'), 'bash .ci/run creates it');
}

/**
 * Node 24 from test/interop/tools (its own package.json and lockfile): the conformance suite
 * and Inspector 2.x need Node >= 22, and the root package must keep running on Node 20.
 */
export function node24(): Tool {
  return locate('Node 24 of test/interop/tools', join(INTEROP_DIR, 'tools', 'node_modules', '.bin', 'node'), 'npm ci --prefix test/interop/tools');
}

export function interopTool(relative: string): string {
  return join(INTEROP_DIR, 'tools', 'node_modules', relative);
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a client program to its end (bounded), never through a shell. */
export function run(command: string, args: string[], options: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024, cwd: options.cwd ?? INTEROP_DIR },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: unknown }).code as number | null) ?? 1 : 0, stdout, stderr }),
    );
  });
}
