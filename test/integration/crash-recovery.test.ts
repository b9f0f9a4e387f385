import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CLI, connectModernHttp, type McpClient } from '../helpers/mcp-clients.js';
import { startServeProcess } from '../helpers/serve-process.js';
import { tempDir } from '../helpers/test-server.js';

const run = promisify(execFile);

const CLIENTS = 8;
const edit = (client: number, n: number) => ({
  path: `c${client}.txt`,
  edits: [{ old: 'MARK', new: `MARK\nline-${n}` }],
  idempotency_key: `c${client}-${n}`,
});

describe('a server killed with SIGKILL mid-write', () => {
  it('keeps every acknowledged action, a valid chain, and gives retries no second effect', async () => {
    const dataDir = tempDir();
    const token = (await run(process.execPath, [CLI, '--data-dir', dataDir, 'token', 'create', '--tenant', 'acme', '--user', 'bot'])).stdout.trim();
    let server = await startServeProcess(dataDir);
    const setup = await connectModernHttp(server.url, token);
    const root = (await setup.call('workspace_create', { name: 'w' })).structured!.root as string;
    for (let c = 0; c < CLIENTS; c++) await setup.call('file_write', { path: `c${c}.txt`, content: 'MARK\n' });
    await setup.close();

    // Eight clients edit as fast as they can, each edit under its own key.
    const acknowledged: { client: number; n: number; actionId: string }[] = [];
    const attempted: { client: number; n: number }[] = [];
    const clients: McpClient[] = await Promise.all(Array.from({ length: CLIENTS }, () => connectModernHttp(server.url, token)));
    const loops = clients.map(async (client, c) => {
      for (let n = 0; ; n++) {
        attempted.push({ client: c, n });
        try {
          const answer = await client.call('file_edit', edit(c, n));
          if (answer.isError) throw new Error(answer.text);
          acknowledged.push({ client: c, n, actionId: answer.meta!['codebuddy/action_id'] as string });
        } catch {
          return; // the server is gone
        }
      }
    });
    await expect.poll(() => acknowledged.length, { timeout: 20_000, interval: 5 }).toBeGreaterThanOrEqual(120);
    server.child.kill('SIGKILL');
    await Promise.all(loops);
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));

    // Every acknowledged action is in the action log and the audit trail, and the chain holds.
    const db = new Database(join(dataDir, 'codebuddy.db'), { readonly: true });
    const recorded = new Set(db.prepare("SELECT action_id FROM audit_events WHERE tenant_id = 'acme'").pluck().all() as string[]);
    const actions = new Set(db.prepare("SELECT id FROM actions WHERE tenant_id = 'acme' AND status = 'succeeded'").pluck().all() as string[]);
    db.close();
    expect(acknowledged.filter((ack) => !recorded.has(ack.actionId) || !actions.has(ack.actionId))).toEqual([]);
    expect((await run(process.execPath, [CLI, '--data-dir', dataDir, 'audit', 'verify'])).stdout).toMatch(/^acme: ok, \d+ events$/m);

    // After a restart, every attempted call is retried with its key: none takes effect twice.
    server = await startServeProcess(dataDir);
    const retrier = await connectModernHttp(server.url, token);
    const outcomes: Record<string, number> = {};
    for (const { client, n } of attempted) {
      const answer = await retrier.call('file_edit', edit(client, n));
      const outcome = answer.isError ? answer.code! : answer.meta?.['codebuddy/replay_of'] ? 'replayed' : 'ran now';
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    await retrier.close();
    server.child.kill('SIGTERM');

    expect(outcomes.replayed).toBeGreaterThanOrEqual(acknowledged.length);
    expect(Object.keys(outcomes).every((outcome) => ['replayed', 'ran now', 'E_OUTCOME_UNKNOWN'].includes(outcome))).toBe(true);
    for (let c = 0; c < CLIENTS; c++) {
      const lines = readFileSync(join(root, `c${c}.txt`), 'utf8').split('\n').filter((line) => line.startsWith('line-'));
      expect(lines.length, `c${c}.txt has a line twice`).toBe(new Set(lines).size);
      for (const ack of acknowledged.filter((a) => a.client === c)) expect(lines).toContain(`line-${ack.n}`);
    }
  }, 60_000);
});
