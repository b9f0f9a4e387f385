import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpClient } from '../helpers/mcp-clients.js';
import { closeAgentAndApprover, startWithAgentAndApprover } from '../helpers/agent-and-approver.js';
import type { TestServer } from '../helpers/test-server.js';

// Rows 6 and 7 of the hostile review: workspace_delete/stop/start ignored the workspace
// policy (a read-only workspace was deleted by an agent), and deny rules did not bind
// (`sh -c "rm …"` under a rule denying `^rm `; deleting or moving the directory of a denied file).

describe('policies bind every operation on a workspace', () => {
  let server: TestServer;
  let agent: McpClient;
  let approver: McpClient;

  beforeAll(async () => {
    ({ server, agent, approver } = await startWithAgentAndApprover());
  });

  afterAll(async () => {
    await closeAgentAndApprover({ server, agent, approver });
  });

  it('refuses workspace_delete, workspace_stop and workspace_start of a read-only workspace', async () => {
    const root = (await agent.call('workspace_create', { name: 'frozen' })).structured!.root as string;
    expect((await approver.call('policy_set', { workspace: 'frozen', preset: 'read-only' })).isError).toBe(false);
    for (const operation of ['workspace_delete', 'workspace_stop', 'workspace_start']) {
      const refused = await agent.call(operation, { workspace: 'frozen' });
      expect(refused, operation).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
      expect(refused.text).toContain('preset read-only');
    }
    expect(existsSync(root)).toBe(true);
    expect((await agent.call('workspace_get', { workspace: 'frozen' })).isError).toBe(false);
  });

  it('holds workspace_delete under review-all with a preview, and deletes once approved', async () => {
    const root = (await agent.call('workspace_create', { name: 'reviewed' })).structured!.root as string;
    writeFileSync(join(root, 'a.txt'), 'a');
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, 'src', 'b.txt'), 'b');
    expect((await approver.call('policy_set', { workspace: 'reviewed', preset: 'review-all' })).isError).toBe(false);

    const stop = await agent.call('workspace_stop', { workspace: 'reviewed' });
    expect(stop.structured).toMatchObject({ status: 'pending_approval', preview: expect.stringContaining('stop the container of workspace reviewed') });
    await approver.call('action_reject', { id: stop.structured!.action_id });

    const held = await agent.call('workspace_delete', { workspace: 'reviewed' });
    expect(held.structured).toMatchObject({ status: 'pending_approval' });
    expect(held.structured!.preview).toMatch(/^delete workspace reviewed \(ws_\S+\) and its 3 files and directories$/);
    expect(existsSync(join(root, 'src', 'b.txt'))).toBe(true);

    const approved = await approver.call('action_approve', { id: held.structured!.action_id });
    expect(approved.structured).toMatchObject({ status: 'applied', result: { name: 'reviewed', deleted_files: true } });
    expect(existsSync(root)).toBe(false);
    expect(await agent.call('workspace_get', { workspace: 'reviewed' })).toMatchObject({ isError: true, code: 'E_NOT_FOUND' });
  });

  describe('command rules', () => {
    let root: string;

    beforeAll(async () => {
      root = (await agent.call('workspace_create', { name: 'cmds' })).structured!.root as string;
      expect((await approver.call('policy_set', { workspace: 'cmds', preset: 'trusted', rules: [{ command: '^rm ', decision: 'deny' }] })).isError).toBe(false);
    });

    it.each([
      ['sh -c "rm x"', 'sh -c "rm x"'],
      ['argv ["sh","-c","rm x"]', ['sh', '-c', 'rm x']],
      ['true; rm x', 'true; rm x'],
      ['bash -ec nested in env and timeout', "env A=1 timeout 10 bash -ec 'cd . && rm x'"],
      ['a pipeline to xargs', 'echo x | xargs rm -f'],
      ['an absolute path', '/bin/rm x'],
    ])('refuses %s under a rule denying ^rm', async (_label, command) => {
      writeFileSync(join(root, 'x'), 'keep me');
      const refused = await agent.call('exec', { workspace: 'cmds', command });
      expect(refused).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
      expect(existsSync(join(root, 'x'))).toBe(true);
    });

    it('refuses what cannot be checked statically, saying why, and runs plain commands', async () => {
      for (const command of ['$CMD x', '$(echo r)m x', 'eval "r""m x"', 'echo "rm x" | sh', '/bin/r? x', '{rm,x}']) {
        const refused = await agent.call('exec', { workspace: 'cmds', command });
        expect(refused, command).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
        expect(refused.text).toContain("cannot be checked against the workspace's command rules; send a plain command");
      }
      expect(existsSync(join(root, 'x'))).toBe(true);
      expect((await agent.call('exec', { workspace: 'cmds', command: 'ls && echo "rm is just a word here"' })).structured).toMatchObject({ exit_code: 0 });
      // A substitution's commands are judged like the others; an argument made by one is no reason to refuse.
      expect((await agent.call('exec', { workspace: 'cmds', command: 'echo "today is $(date +%A)"' })).structured).toMatchObject({ exit_code: 0 });
      expect(await agent.call('exec', { workspace: 'cmds', command: 'echo $(rm x)' })).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
    });
  });

  describe('path rules on directories', () => {
    let root: string;

    beforeAll(async () => {
      root = (await agent.call('workspace_create', { name: 'paths' })).structured!.root as string;
      mkdirSync(join(root, 'config', 'deep'), { recursive: true });
      writeFileSync(join(root, 'config', 'deep', '.env'), 'KEY=human\n');
      writeFileSync(join(root, 'config', 'app.json'), '{}\n');
      expect((await approver.call('policy_set', { workspace: 'paths', preset: 'trusted', rules: [{ paths: ['.env'], decision: 'deny' }] })).isError).toBe(false);
    });

    it('refuses file_delete recursive and file_move of a directory holding a denied file', async () => {
      const deleted = await agent.call('file_delete', { workspace: 'paths', path: 'config', recursive: true });
      expect(deleted).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
      const moved = await agent.call('file_move', { workspace: 'paths', from: 'config', to: 'elsewhere' });
      expect(moved).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
      expect(existsSync(join(root, 'config', 'deep', '.env'))).toBe(true);
      expect(existsSync(join(root, 'elsewhere'))).toBe(false);
      // What holds no denied file still goes.
      mkdirSync(join(root, 'scratch'));
      writeFileSync(join(root, 'scratch', 'tmp.txt'), 'x');
      expect((await agent.call('file_delete', { workspace: 'paths', path: 'scratch', recursive: true })).isError).toBe(false);
    });

    it('judges a directory too large to list by its strictest path rule, and says so', async () => {
      mkdirSync(join(root, 'huge'));
      for (let n = 0; n <= 10_000; n++) writeFileSync(join(root, 'huge', `f${n}`), '');
      const refused = await agent.call('file_delete', { workspace: 'paths', path: 'huge', recursive: true });
      expect(refused).toMatchObject({ isError: true, code: 'E_FORBIDDEN' });
      expect(refused.text).toContain('more paths than can be listed');
      expect(existsSync(join(root, 'huge', 'f0'))).toBe(true);
    });
  });
});
