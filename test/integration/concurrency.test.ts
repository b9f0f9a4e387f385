import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectLegacyHttp, connectModernHttp, type McpClient, type ToolAnswer } from '../helpers/mcp-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe('concurrent edits of one file from two clients', () => {
  let server: TestServer;
  let clients: McpClient[];
  let root: string;

  beforeAll(async () => {
    server = await startTestServer();
    const token = server.token('acme', 'ada');
    clients = [await connectLegacyHttp(server.url, token), await connectModernHttp(server.url, token)];
    root = (await clients[0]!.call('workspace_create', { name: 'race' })).structured!.root as string;
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await server.close();
  });

  it('applies 20 parallel edits of distinct text: none is lost', async () => {
    const slots = Array.from({ length: 20 }, (_, i) => `slot-${String(i).padStart(2, '0')}`);
    await clients[0]!.call('file_write', { path: 'shared.txt', content: slots.map((slot) => `${slot}: empty`).join('\n') + '\n' });

    const answers = await Promise.all(
      slots.map((slot, i) => clients[i % 2]!.call('file_edit', { path: 'shared.txt', edits: [{ old: `${slot}: empty`, new: `${slot}: client-${i % 2}` }] })),
    );

    expect(answers.filter((answer) => answer.isError)).toEqual([]);
    const final = readFileSync(join(root, 'shared.txt'), 'utf8');
    expect(final).toBe(slots.map((slot, i) => `${slot}: client-${i % 2}`).join('\n') + '\n');
  });

  it('lets exactly one of 20 competing edits of the same text win; the rest fail cleanly', async () => {
    await clients[0]!.call('file_write', { path: 'counter.txt', content: 'owner: nobody\n' });

    const answers: ToolAnswer[] = await Promise.all(
      Array.from({ length: 20 }, (_, i) => clients[i % 2]!.call('file_edit', { path: 'counter.txt', edits: [{ old: 'owner: nobody', new: `owner: editor-${i}` }] })),
    );

    const winners = answers.flatMap((answer, i) => (answer.isError ? [] : [i]));
    expect(winners).toHaveLength(1);
    expect(answers.filter((answer) => answer.isError).map((answer) => answer.code)).toEqual(Array(19).fill('E_EDIT_NO_MATCH'));
    expect(readFileSync(join(root, 'counter.txt'), 'utf8')).toBe(`owner: editor-${winners[0]}\n`);
  });

  it('refuses a write whose expected_sha256 went stale under a concurrent write', async () => {
    const first = await clients[0]!.call('file_write', { path: 'config.json', content: '{"v":1}\n' });
    const base = first.structured!.sha256 as string;
    const answers = await Promise.all(
      [2, 3, 4, 5].map((v, i) => clients[i % 2]!.call('file_write', { path: 'config.json', content: `{"v":${v}}\n`, expected_sha256: base })),
    );
    expect(answers.filter((answer) => !answer.isError)).toHaveLength(1);
    expect(answers.filter((answer) => answer.isError).map((answer) => answer.code)).toEqual(['E_CONFLICT', 'E_CONFLICT', 'E_CONFLICT']);
  });
});
