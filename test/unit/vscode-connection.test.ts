import { describe, expect, it } from 'vitest';
import { closeReason, initialState, MAX_ATTEMPTS, shouldRestart, statusText, transition, type ConnectionEvent, type ConnectionState } from '../../clients/vscode/src/connection-state.js';
import { describeTarget, targetOf } from '../../clients/vscode/src/connection-target.js';
import { lspSocketUrl, serverRoute } from '../../clients/vscode/src/server-url.js';

/* The VS Code extension's connection logic (clients/vscode), pure: VS Code itself cannot be downloaded here. */

const settings = { mode: 'remote' as const, command: 'codebuddy', serverUrl: 'https://cb.example.com/mcp', workspace: 'shop' };

describe('where the VS Code extension connects', () => {
  it('runs codebuddy lsp over stdio for a local folder', () => {
    const target = targetOf({ ...settings, mode: 'local' }, { scheme: 'file', path: '/home/ana/shop' }, undefined);
    expect(target).toEqual({ kind: 'local', command: 'codebuddy', args: ['lsp', '--workspace', '/home/ana/shop'], folder: '/home/ana/shop' });
    expect(describeTarget(target as Exclude<typeof target, { kind: 'unconfigured' }>)).toBe('codebuddy lsp --workspace /home/ana/shop');
    expect(targetOf({ ...settings, mode: 'local' }, undefined, undefined)).toEqual({ kind: 'unconfigured', reason: 'open a folder: local mode serves the opened folder' });
  });

  it('connects to the remote socket with the token in a header, never in the URL', () => {
    expect(targetOf(settings, undefined, 'cb_secret')).toEqual({ kind: 'remote', url: 'wss://cb.example.com/lsp/shop', headers: { authorization: 'Bearer cb_secret' }, workspace: 'shop' });
    expect(targetOf(settings, undefined, undefined)).toEqual({ kind: 'unconfigured', reason: 'run "CodeBuddy: Set Token for the Remote Server"' });
    expect(targetOf({ ...settings, workspace: '' }, undefined, 'cb_secret')).toEqual({ kind: 'unconfigured', reason: 'set codebuddy.workspace (an id or a name) or open a remote workspace' });
    expect(targetOf({ ...settings, serverUrl: '' }, undefined, 'cb_secret')).toEqual({ kind: 'unconfigured', reason: 'set codebuddy.serverUrl' });
  });

  it('takes the workspace of an opened codebuddy: folder, whatever the mode says', () => {
    const target = targetOf({ ...settings, mode: 'local', workspace: 'other' }, { scheme: 'codebuddy', workspace: 'ws_42' }, 't');
    expect(target).toEqual({ kind: 'remote', url: 'wss://cb.example.com/lsp/ws_42', headers: { authorization: 'Bearer t' }, workspace: 'ws_42' });
  });

  it('puts REST and the socket beside the URL the banner prints', () => {
    expect(lspSocketUrl('http://127.0.0.1:7420', 'ws_1')).toBe('ws://127.0.0.1:7420/lsp/ws_1');
    expect(lspSocketUrl('https://host/base/mcp?x=1#y', 'a b')).toBe('wss://host/base/lsp/a%20b');
    expect(serverRoute('https://host/base/mcp/', 'api/ops/file_stat').href).toBe('https://host/base/api/ops/file_stat');
    expect(() => lspSocketUrl('file:///etc', 'w')).toThrow('codebuddy.serverUrl must be http(s), not file:');
  });
});

describe("the connection's state machine", () => {
  const run = (...events: ConnectionEvent[]): ConnectionState => events.reduce(transition, initialState);

  it('goes connecting → connected, and counts pending actions only while connected', () => {
    expect(run({ type: 'connect', target: 'x' })).toEqual({ state: 'connecting', target: 'x', attempt: 1 });
    expect(run({ type: 'connect', target: 'x' }, { type: 'running' }, { type: 'pending', count: 3 })).toEqual({ state: 'connected', target: 'x', pending: 3 });
    expect(run({ type: 'pending', count: 3 })).toEqual({ state: 'disconnected' });
    expect(run({ type: 'running' })).toEqual({ state: 'disconnected' });
  });

  it('fails for good on a refusal (4401, 4404), with no restart', () => {
    const refused = run({ type: 'connect', target: 'x' }, { type: 'running' }, { type: 'closed', code: 4401, reason: 'The token was revoked or has expired.' });
    expect(refused).toEqual({ state: 'failed', reason: 'the token was refused: set it again (CodeBuddy: Set Token)' });
    expect(shouldRestart(refused)).toBe(false);
    expect(run({ type: 'connect', target: 'x' }, { type: 'closed', code: 4404, reason: 'workspace w not found' })).toEqual({ state: 'failed', reason: 'no such workspace for this token (workspace w not found)' });
  });

  it('tries a lost connection again, up to a limit, counting afresh once it came up', () => {
    let state = run({ type: 'connect', target: 'x' }, { type: 'running' }, { type: 'closed', code: 1006 });
    expect(state).toEqual({ state: 'connecting', target: 'x', attempt: 2 });
    expect(shouldRestart(state)).toBe(true);
    for (let attempt = 3; attempt <= MAX_ATTEMPTS; attempt++) {
      state = transition(state, { type: 'closed' });
      expect(state).toEqual({ state: 'connecting', target: 'x', attempt });
    }
    state = transition(state, { type: 'closed' });
    expect(state).toEqual({ state: 'failed', reason: `the language server process exited; gave up after ${MAX_ATTEMPTS} attempts (CodeBuddy: Connect to try again)` });
    expect(shouldRestart(state)).toBe(false);
    // Up again after two losses: the next loss is attempt 2 again, not 4.
    expect(run({ type: 'connect', target: 'x' }, { type: 'closed', code: 1006 }, { type: 'running' }, { type: 'closed', code: 1006 })).toMatchObject({ attempt: 2 });
  });

  it('ignores a close after the user disconnected, and an error once connected', () => {
    expect(run({ type: 'connect', target: 'x' }, { type: 'disconnect' }, { type: 'closed', code: 1006 })).toEqual({ state: 'disconnected' });
    expect(run({ type: 'connect', target: 'x' }, { type: 'running' }, { type: 'error', message: 'boom' })).toMatchObject({ state: 'connected' });
    expect(run({ type: 'connect', target: 'x' }, { type: 'error', message: 'spawn codebuddy ENOENT' })).toEqual({ state: 'failed', reason: 'spawn codebuddy ENOENT' });
    // Settings missing before anything started: failed, with the reason to show.
    expect(run({ type: 'error', message: 'set codebuddy.serverUrl' })).toEqual({ state: 'failed', reason: 'set codebuddy.serverUrl' });
  });

  it('shows the state in the status bar', () => {
    expect(statusText({ state: 'connected', target: 'x', pending: 2 })).toEqual({ text: '$(check) CodeBuddy · 2 pending', tooltip: 'CodeBuddy: connected to x; 2 agent actions wait for approval' });
    expect(statusText({ state: 'connected', target: 'x', pending: 1 }).tooltip).toBe('CodeBuddy: connected to x; 1 agent action waits for approval');
    expect(statusText({ state: 'connecting', target: 'x', attempt: 3 }).tooltip).toBe(`CodeBuddy: connecting to x (attempt 3 of ${MAX_ATTEMPTS})`);
    expect(statusText({ state: 'failed', reason: 'nope' })).toEqual({ text: '$(error) CodeBuddy', tooltip: 'CodeBuddy: nope' });
    expect(closeReason(4400, '')).toEqual({ retry: false, message: 'refused (4400)' });
  });
});
