import { describe, expect, it } from 'vitest';
import { ServerRegistry } from '../../src/code/server-registry.js';
import { loadConfig } from '../../src/config/load-config.js';

describe('the language server registry and its settings', () => {
  it('adds and replaces servers from codeServers (JSON in the environment), and picks the Python server', () => {
    const extra = [{ id: 'python', command: { local: ['/usr/bin/python3', '-m', 'pylsp'] }, languages: [{ id: 'python', patterns: ['**/*.py'] }] }, { id: 'lua', command: { docker: ['lua-language-server'] }, languages: [{ id: 'lua', patterns: ['**/*.lua'] }] }];
    const config = loadConfig({ env: { CODEBUDDY_CODE_SERVERS: JSON.stringify(extra), CODEBUDDY_CODE_PYTHON_SERVER: 'pylsp' } });
    const registry = new ServerRegistry({ pythonServer: config.codePythonServer, extra: config.codeServers });
    expect(registry.all().map((spec) => spec.id)).toEqual(['typescript', 'python', 'go', 'lua']);
    expect(registry.forPath('src/a.tsx', 'local')).toMatchObject({ spec: { id: 'typescript' }, languageId: 'typescriptreact' });
    expect(registry.forPath('pkg/m.py', 'docker')).toBeUndefined(); // the replacement has no Docker command
    expect(registry.forPath('x.lua', 'local')).toBeUndefined();
    expect(registry.forPath('x.lua', 'docker')).toMatchObject({ spec: { id: 'lua' }, languageId: 'lua' });
    expect(registry.command(registry.get('typescript')!, 'local')).toEqual({
      argv: [process.execPath, expect.stringMatching(/\/node_modules\/typescript-language-server\/lib\/cli\.mjs$/), '--stdio'],
      // What a local sandbox must show the server: its Node.js and CodeBuddy's node_modules.
      readOnly: [process.execPath, expect.stringMatching(/\/node_modules$/)],
    });
  });

  it('refuses bad server definitions at start-up, naming the setting', () => {
    expect(() => loadConfig({ env: { CODEBUDDY_CODE_SERVERS: '[{' } })).toThrow(/invalid setting codeServers \(CODEBUDDY_CODE_SERVERS\): not valid JSON/);
    expect(() => loadConfig({ env: { CODEBUDDY_CODE_SERVERS: JSON.stringify([{ id: 'Bad Id', command: {}, languages: [] }]) } })).toThrow(/invalid setting codeServers/);
  });
});
