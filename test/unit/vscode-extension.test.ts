import { describe, expect, it } from 'vitest';
import { closeReason, statusText } from '../../clients/vscode/src/connection-state.js';
import { lspSocketUrl, targetOf } from '../../clients/vscode/src/connection-target.js';

/* The VS Code extension's pure parts (clients/vscode): VS Code itself cannot run here. */

const settings = { mode: 'remote' as const, command: 'codebuddy', serverUrl: 'https://cb.example.com/mcp', workspace: 'shop main' };

describe('the VS Code extension, pure parts', () => {
  it('connects locally over stdio to the opened folder, or remotely with the token in a header', () => {
    expect(targetOf({ ...settings, mode: 'local' }, '/home/ana/shop', undefined)).toEqual({ kind: 'local', command: 'codebuddy', args: ['lsp', '--workspace', '/home/ana/shop'] });
    expect(targetOf({ ...settings, mode: 'local' }, undefined, undefined)).toMatchObject({ kind: 'unconfigured' });
    expect(targetOf(settings, undefined, 'cb_secret')).toEqual({ kind: 'remote', url: 'wss://cb.example.com/lsp/shop%20main', headers: { authorization: 'Bearer cb_secret' } });
    expect(targetOf(settings, undefined, undefined)).toEqual({ kind: 'unconfigured', reason: 'run "CodeBuddy: Set Token for the Remote Server"' });
    expect(targetOf({ ...settings, workspace: '' }, undefined, 'cb_secret')).toMatchObject({ kind: 'unconfigured', reason: 'set codebuddy.workspace (an id or a name)' });
  });

  it('builds the socket URL beside the server URL, never with the token in it', () => {
    expect(lspSocketUrl('http://127.0.0.1:7420', 'ws_1')).toBe('ws://127.0.0.1:7420/lsp/ws_1');
    expect(lspSocketUrl('https://host/base/mcp?x=1#y', 'w')).toBe('wss://host/base/lsp/w');
    expect(() => lspSocketUrl('file:///etc', 'w')).toThrow('codebuddy.serverUrl must be http(s), not file:');
  });

  it('shows the connection state and reads refusals as refusals', () => {
    expect(statusText({ state: 'connected', target: 'x', pending: 2 })).toEqual({ text: '$(check) CodeBuddy · 2 pending', tooltip: 'CodeBuddy: connected to x; 2 agent actions wait for approval' });
    expect(statusText({ state: 'failed', reason: 'nope' }).tooltip).toBe('CodeBuddy: nope');
    expect(closeReason(4401, '')).toEqual({ retry: false, message: 'the token was refused: set it again (CodeBuddy: Set Token)' });
    expect(closeReason(4404, 'workspace w not found')).toEqual({ retry: false, message: 'no such workspace for this token (workspace w not found)' });
    expect(closeReason(1006, '')).toEqual({ retry: true, message: 'connection closed (1006)' });
  });
});
