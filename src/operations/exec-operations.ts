import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { CodeBuddyError } from '../core/errors.js';
import { resolveExisting } from '../files/path-resolver.js';
import type { Runtime } from '../workspaces/runtimes/runtime.js';
import type { Workspace } from '../workspaces/workspace.js';
import { workspaceOperation, type Operation } from './operation.js';

const DEFAULT_TIMEOUT_S = 60;
const DEFAULT_MAX_OUTPUT = 32 * 1024;

const commandLine = (command: string | string[]) => (typeof command === 'string' ? command : command.map((arg) => (/^[\w./=:@%+-]+$/.test(arg) ? arg : JSON.stringify(arg))).join(' '));

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function execOperations(runtimeFor: (workspace: Workspace) => Runtime, maxTimeoutSeconds: number): Operation[] {
  return [
    workspaceOperation({
      name: 'exec',
      title: 'Run command',
      description: 'Run a command (argv array, or a shell string) in the workspace; output head and tail kept.',
      effect: 'exec',
      idempotent: false,
      destructive: true,
      openWorld: true,
      input: z.object({
        command: z.union([z.string().min(1).max(100_000), z.array(z.string().max(100_000)).min(1).max(1000)]),
        cwd: z.string().min(1).max(4096).optional().describe('Directory; default root'),
        env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name'), z.string().max(32_768)).optional(),
        timeout_s: z.number().min(1).max(maxTimeoutSeconds).optional().describe(`Default ${DEFAULT_TIMEOUT_S}`),
        max_output: z.number().int().min(1024).max(1024 * 1024).optional().describe('Bytes per stream kept, default 32768'),
      }),
      output: z.object({
        exit_code: z.number().nullable(),
        signal: z.string().nullable(),
        timed_out: z.boolean(),
        cancelled: z.boolean(),
        limit: z.enum(['memory', 'pids']).nullable(),
        duration_ms: z.number(),
        stdout: z.string(),
        stderr: z.string(),
        stdout_bytes: z.number(),
        stderr_bytes: z.number(),
        truncated: z.boolean(),
      }),
      async policySubject(input, workspace) {
        const cwd = await resolveExisting(workspace.root, input.cwd ?? '', 'directory');
        return { paths: [cwd.relative], command: commandLine(input.command), script: input.command };
      },
      async preview(input, workspace) {
        // A held call keeps its arguments until a human decides: env values would sit there in clear.
        if (input.env && Object.keys(input.env).length > 0) {
          throw new CodeBuddyError('E_INVALID_ARGUMENT', 'env cannot be held for approval (its values are never stored); pass the values another way or ask for a policy that allows this command', { field: 'env' });
        }
        const cwd = await resolveExisting(workspace.root, input.cwd ?? '', 'directory');
        return { text: `$ ${commandLine(input.command)}\n(in ${cwd.relative || '.'}, timeout ${input.timeout_s ?? DEFAULT_TIMEOUT_S} s)`, bases: {} };
      },
      async run(input, workspace, context) {
        const cwd = await resolveExisting(workspace.root, input.cwd ?? '', 'directory');
        const result = await runtimeFor(workspace).exec({
          // Unique per run: two runs sharing a name would share (or fail to get) a cgroup.
          label: `${workspace.id}-${randomUUID()}`,
          cwd: cwd.absolute,
          command: input.command,
          env: input.env ?? {},
          timeoutMs: (input.timeout_s ?? DEFAULT_TIMEOUT_S) * 1000,
          maxOutputBytes: input.max_output ?? DEFAULT_MAX_OUTPUT,
          signal: context.signal,
          ...(context.progress ? { onProgress: (elapsed: number, line: string) => context.progress!(Math.round(elapsed / 1000), line || `running for ${seconds(elapsed)}`) } : {}),
        });
        return {
          exit_code: result.exitCode,
          signal: result.signal,
          timed_out: result.timedOut,
          cancelled: result.cancelled,
          limit: result.limit,
          duration_ms: Math.round(result.durationMs),
          stdout: result.stdout,
          stderr: result.stderr,
          stdout_bytes: result.stdoutBytes,
          stderr_bytes: result.stderrBytes,
          truncated: result.truncated,
        };
      },
      wasCancelled: (out) => out.cancelled,
      render(out) {
        const how = out.timed_out
          ? `timed out after ${seconds(out.duration_ms)}; the process tree was killed`
          : out.cancelled
            ? `cancelled after ${seconds(out.duration_ms)}; the process tree was killed`
            : out.limit === 'memory'
              ? `killed: over the memory limit, after ${seconds(out.duration_ms)}`
              : `${out.exit_code === null ? `killed by ${out.signal}` : `exit ${out.exit_code}`} in ${seconds(out.duration_ms)}${out.limit === 'pids' ? '; the process limit refused forks' : ''}`;
        const sections = [how];
        if (out.stdout) sections.push(`--- stdout${out.stdout_bytes > out.stdout.length ? ` (${out.stdout_bytes} bytes)` : ''}\n${out.stdout.replace(/\n$/, '')}`);
        if (out.stderr) sections.push(`--- stderr${out.stderr_bytes > out.stderr.length ? ` (${out.stderr_bytes} bytes)` : ''}\n${out.stderr.replace(/\n$/, '')}`);
        return sections.join('\n');
      },
    }),
  ];
}
