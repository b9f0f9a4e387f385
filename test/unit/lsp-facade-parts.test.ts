import { describe, expect, it } from 'vitest';
import { unionCapabilities } from '../../src/faces/lsp/capability-union.js';
import { applyChanges } from '../../src/faces/lsp/editor-session.js';
import { changedRanges, pendingCodeActions } from '../../src/faces/lsp/pending-actions.js';
import { UriTranslator } from '../../src/faces/lsp/uri-translation.js';

describe('the LSP facade, pure parts', () => {
  it('translates URIs on the fields LSP defines as URIs, and nothing else', () => {
    const translator = new UriTranslator('file:///home/ana/shop/');
    expect(translator.toServer('file:///home/ana/shop/src/a.ts')).toBe('file:///workspace/src/a.ts');
    expect(translator.toServer('file:///home/ana/shopping/a.ts')).toBeUndefined();
    expect(translator.toServer('file:///etc/passwd')).toBeUndefined();
    const edit = { changes: { 'file:///workspace/a.ts': [{ range: {}, newText: 'file:///workspace/b.ts' }] }, documentChanges: [{ textDocument: { uri: 'file:///workspace/c.ts', version: 1 } }] };
    expect(translator.resultToClient(edit)).toEqual({
      changes: { 'file:///home/ana/shop/a.ts': [{ range: {}, newText: 'file:///workspace/b.ts' }] },
      documentChanges: [{ textDocument: { uri: 'file:///home/ana/shop/c.ts', version: 1 } }],
    });
    // Document text is never rewritten, and URIs outside the workspace (libraries) pass unchanged.
    expect(translator.paramsToServer({ textDocument: { uri: 'file:///home/ana/shop/a.ts', text: 'file:///home/ana/shop/x' } })).toEqual({ textDocument: { uri: 'file:///workspace/a.ts', text: 'file:///home/ana/shop/x' } });
    expect(translator.resultToClient([{ uri: 'file:///usr/lib/node_modules/typescript/lib/lib.d.ts' }])).toEqual([{ uri: 'file:///usr/lib/node_modules/typescript/lib/lib.d.ts' }]);
  });

  it('reads the lines a held change would touch from its unified diff', () => {
    const diff = ['--- a/app.ts', '+++ b/app.ts', '@@ -1,4 +1,4 @@', ' one', '-two', '+TWO', ' three', ' four', '@@ -10,2 +10,3 @@', ' ten', '+ten and a half', ' eleven', '--- a/gone.ts', '+++ /dev/null', '@@ -1,2 +0,0 @@', '-a', '-b', ''].join('\n');
    expect(Object.fromEntries(changedRanges(diff))).toEqual({
      'app.ts': [
        { start: { line: 1, character: 0 }, end: { line: 2, character: 0 } },
        { start: { line: 10, character: 0 }, end: { line: 11, character: 0 } },
      ],
      'gone.ts': [{ start: { line: 0, character: 0 }, end: { line: 2, character: 0 } }],
    });
    const change = { actionId: 'act_1', operation: 'file_edit', requestedBy: 'acme/bot', path: 'app.ts', ranges: changedRanges(diff).get('app.ts')! };
    expect(pendingCodeActions([change], { start: { line: 1, character: 3 }, end: { line: 1, character: 3 } }).map((action) => action.command!.command)).toEqual(['codebuddy.diff', 'codebuddy.approve', 'codebuddy.reject']);
    expect(pendingCodeActions([change], { start: { line: 5, character: 0 }, end: { line: 5, character: 0 } })).toEqual([]);
  });

  it('unites capabilities, keeping its own sync, commands and pushed diagnostics', () => {
    const union = unionCapabilities([
      { hoverProvider: true, completionProvider: { triggerCharacters: ['.'] }, textDocumentSync: 2, executeCommandProvider: { commands: ['ts.x'] }, diagnosticProvider: { interFileDependencies: false, workspaceDiagnostics: false } },
      { hoverProvider: { workDoneProgress: true }, completionProvider: { triggerCharacters: ['.', ':'], resolveProvider: true }, referencesProvider: true },
    ]);
    expect(union).toEqual({
      hoverProvider: { workDoneProgress: true },
      completionProvider: { triggerCharacters: ['.', ':'], resolveProvider: true },
      referencesProvider: true,
      positionEncoding: 'utf-16',
      textDocumentSync: { openClose: true, change: 1, save: { includeText: false } },
      codeActionProvider: true,
      executeCommandProvider: { commands: ['codebuddy.approve', 'codebuddy.reject', 'codebuddy.diff', 'codebuddy.pending', 'ts.x'] },
      workspace: { workspaceFolders: { supported: true, changeNotifications: false } },
    });
  });

  it('applies ranged changes in UTF-16 units when a client sends them anyway', () => {
    expect(applyChanges('héllo\nwörld\n', [{ range: { start: { line: 1, character: 1 }, end: { line: 1, character: 2 } }, text: 'o' }])).toBe('héllo\nworld\n');
    expect(applyChanges('a\n', [{ text: 'whole' }, { range: { start: { line: 0, character: 5 }, end: { line: 0, character: 5 } }, text: '!' }])).toBe('whole!');
  });
});
