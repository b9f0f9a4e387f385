import { describe, expect, it } from 'vitest';
import { unionCapabilities } from '../../src/faces/lsp/capability-union.js';
import { applyChanges } from '../../src/faces/lsp/editor-session.js';
import { changedRanges, pendingCodeActions } from '../../src/faces/lsp/pending-actions.js';
import { UriTranslator } from '../../src/faces/lsp/uri-translation.js';
import { RawJson, RawResponses } from '../../src/code/raw-responses.js';
import { messageEncoder, messageText } from '../../src/faces/lsp/message-text.js';
import { ProgressTokens } from '../../src/faces/lsp/progress-tokens.js';
import { LateCapabilities } from '../../src/faces/lsp/late-capabilities.js';
import { ForwardedRegistrations } from '../../src/faces/lsp/forwarded-registrations.js';

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

  it('translates a JSON text exactly as it translates the parsed value, and refuses text that is not one JSON value', () => {
    const translator = new UriTranslator('file:///home/ana/shop');
    const samples: unknown[] = [
      [{ uri: 'file:///workspace/a.ts', range: { start: { line: 1, character: 2 }, end: { line: 1, character: 9 } } }, { uri: 'file:///workspace', range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } }],
      // The shape of a references answer (translated by one native replace): a sibling of the root and a library stay as they are.
      [{ uri: 'file:///workspaces/b.ts', range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } } }, { uri: 'file:///usr/lib/x.d.ts', range: { start: { line: 3, character: 0 }, end: { line: 4, character: 0 } } }, { uri: 'file:///workspace/c/d.ts', range: { start: { line: 10, character: 2 }, end: { line: 10, character: 12 } } }],
      { changes: { 'file:///workspace/a.ts': [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } }, newText: 'file:///workspace/b.ts' }] }, documentChanges: [{ textDocument: { uri: 'file:///workspace/c.ts', version: 1 } }, { kind: 'rename', oldUri: 'file:///workspace/d.ts', newUri: 'file:///workspace/e.ts' }] },
      { contents: { kind: 'markdown', value: '"uri":"file:///workspace/x"' }, range: { uri: 'file:///workspace/not-a-uri-field' } },
      [{ targetUri: 'file:///workspace/a.ts', targetRange: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } }, { uri: 'file:///workspaces/other.ts' }, { uri: 'file:///usr/lib/x.d.ts' }, { uri: 'ü ☃ \u0001 "quoted"' }],
      { uri: 'file:\/\/\/workspace\/escaped.ts', n: [-1.5e3, 0, 12, true, false, null], nested: [[[]], {}] },
      null,
    ];
    for (const sample of samples) {
      const text = JSON.stringify(sample);
      expect(JSON.parse(translator.textToClient(text)!)).toEqual(translator.resultToClient(JSON.parse(text)));
      // Whitespace between tokens changes nothing.
      expect(JSON.parse(translator.textToClient(JSON.stringify(sample, null, 2))!)).toEqual(translator.resultToClient(JSON.parse(text)));
    }
    // A server escaping its slashes still has its URIs translated.
    expect(translator.textToClient('{"uri":"file:\\/\\/\\/workspace\\/a.ts"}')).toBe('{"uri":"file:///home/ana/shop/a.ts"}');
    // An editor root that needs escaping in JSON is escaped.
    expect(JSON.parse(new UriTranslator('file:///ho"me').textToClient('[{"uri":"file:///workspace/a"}]')!)).toEqual([{ uri: 'file:///ho"me/a' }]);
    const location = '{"uri":"file:///workspace/a","range":{"start":{"line":0,"character":0},"end":{"line":0,"character":1}}}';
    expect(JSON.parse(new UriTranslator('file:///$&"$1').textToClient(`[${location},${location}]`)!).map((each: { uri: string }) => each.uri)).toEqual(['file:///$&"$1/a', 'file:///$&"$1/a']);
    // Not one JSON value: a second value or member after it (an attempt to answer another request), broken strings, numbers, literals, brackets.
    for (const bad of ['[1],"id":0', '[1] [2]', '', ' ', '[1,]', '{"a":1,}', '{"a" 1}', '{a:1}', '["\\u12"]', '["\\x"]', '["a\u0001"]', '"open', '[01]', '[1.]', '[-]', '[1e]', '[tru]', '[nul]', '[1}', '{"a":[}', '[[[]]', '[{"range":{"start":{"line":01,"character":0},"end":{"line":0,"character":0}}}]', '[{"range":{"line":1,"character":2}]', `[${location},]`, `[${location}],"id":0`, `[${location}${location}]`]) {
      expect(translator.textToClient(bad), bad).toBeUndefined();
    }
    // An escaped control character is fine; a raw one is not (above).
    expect(translator.textToClient('["a\\u0001"]')).toBe('["a\\u0001"]');
  });

  it('keeps a large result of a marked request as text, parses everything else, and writes it back with the editor\'s id', async () => {
    const raw = new RawResponses();
    const written: unknown[] = [];
    const writer = raw.writer({ onError: () => ({ dispose: () => undefined }), onClose: () => ({ dispose: () => undefined }), write: async (message: unknown) => void written.push(message), end: () => undefined, dispose: () => undefined } as never);
    const params = { textDocument: { uri: 'file:///workspace/a.ts' } };
    raw.want(params);
    await writer.write({ jsonrpc: '2.0', id: 7, method: 'textDocument/references', params } as never);
    await writer.write({ jsonrpc: '2.0', id: 8, method: 'textDocument/references', params: { other: true } } as never);
    const big = JSON.stringify(Array.from({ length: 500 }, (_, i) => ({ uri: `file:///workspace/${i}.ts` })));
    const decode = (text: string) => raw.decoder.decode(Buffer.from(text), { charset: 'utf-8' });
    // Not marked (8), or small: parsed.
    expect(await decode(`{"jsonrpc":"2.0","id":8,"result":${big}}`)).toEqual({ jsonrpc: '2.0', id: 8, result: JSON.parse(big) });
    const kept = (await decode(`{"jsonrpc":"2.0","id":7,"result":${big}}\n`)) as unknown as { id: number; result: RawJson };
    expect(kept.id).toBe(7);
    expect(kept.result).toBeInstanceOf(RawJson);
    expect(kept.result.json).toBe(big);
    // Once answered, the id is no longer kept as text.
    expect(await decode(`{"jsonrpc":"2.0","id":7,"result":${big}}`)).toEqual({ jsonrpc: '2.0', id: 7, result: JSON.parse(big) });
    // Written to an editor under its own id, as it is; anything else that serializes it gets the value.
    expect(messageText({ jsonrpc: '2.0', id: 'editor-3', result: new RawJson('[1,2]') } as never)).toBe('{"jsonrpc":"2.0","id":"editor-3","result":[1,2]}');
    expect(JSON.stringify({ result: new RawJson('[1,2]') })).toBe('{"result":[1,2]}');
    // The stdio writer's encoder (codebuddy lsp) writes it the same way.
    expect((await messageEncoder.encode({ jsonrpc: '2.0', id: 4, result: new RawJson('{"uri":"é"}') } as never, { charset: 'utf-8' })).toString()).toBe('{"jsonrpc":"2.0","id":4,"result":{"uri":"é"}}');
  });

  it('gives each editor\'s request tokens of their own on the server, and tells server-created tokens apart by server', () => {
    const [ts, py] = [{}, {}];
    const a = new ProgressTokens('a');
    const b = new ProgressTokens('b');
    const params = { textDocument: { uri: 'x' }, workDoneToken: 1, partialResultToken: 'p' };
    const sentA = a.forRequest(ts, params);
    const sentB = b.forRequest(ts, params);
    expect(params).toEqual({ textDocument: { uri: 'x' }, workDoneToken: 1, partialResultToken: 'p' });
    expect(sentA.params).toEqual({ textDocument: { uri: 'x' }, workDoneToken: 'a/1', partialResultToken: 'a/2' });
    expect(sentB.params.workDoneToken).toBe('b/1');
    expect([a.ofRequest(ts, 'a/1'), a.ofRequest(ts, 'a/2'), a.ofRequest(ts, 'b/1'), a.ofRequest(py, 'a/1')]).toEqual([1, 'p', undefined, undefined]);
    expect(a.toServer(1)).toEqual({ server: ts, token: 'a/1' });
    sentA.release();
    expect(a.ofRequest(ts, 'a/1')).toBeUndefined();
    expect(a.forRequest(ts, { textDocument: { uri: 'x' } }).params).toEqual({ textDocument: { uri: 'x' } });
    expect([a.created(ts, 'typescript', 1), a.created(py, 'python', 1)]).toEqual(['typescript/1', 'python/1']);
    expect([a.ofServer(ts, 'typescript', 1), a.ofServer(py, 'typescript', 1), b.ofServer(ts, 'typescript', 1)]).toEqual(['typescript/1', undefined, undefined]);
    expect(a.toServer('python/1')).toEqual({ server: py, token: 1 });
    a.ended('typescript/1');
    expect(a.ofServer(ts, 'typescript', 1)).toBeUndefined();
  });

  it('registers what a late server adds, only for providers not announced and editors that take it, once per server', () => {
    const announced = unionCapabilities([{ hoverProvider: true, executeCommandProvider: { commands: ['ts.a'] } }]);
    const late = new LateCapabilities(announced, { textDocument: { hover: { dynamicRegistration: true }, rename: { dynamicRegistration: true }, references: { dynamicRegistration: false } }, workspace: { executeCommand: { dynamicRegistration: true } } });
    const python = { hoverProvider: true, renameProvider: { prepareProvider: true }, referencesProvider: true, executeCommandProvider: { commands: ['ts.a', 'py.b'] } };
    expect(late.registrationsFor('python', python, ['**/*.py'])).toEqual([
      { id: 'codebuddy/python/1', method: 'textDocument/rename', registerOptions: { prepareProvider: true, documentSelector: [{ pattern: '**/*.py' }] } },
      { id: 'codebuddy/python/2', method: 'workspace/executeCommand', registerOptions: { commands: ['py.b'] } },
    ]);
    expect(late.registrationsFor('python', python, ['**/*.py'])).toEqual([]);
    expect(late.registrationsFor('go', { renameProvider: true }, ['**/*.go'])).toEqual([{ id: 'codebuddy/go/3', method: 'textDocument/rename', registerOptions: { documentSelector: [{ pattern: '**/*.go' }] } }]);
    expect(new LateCapabilities(announced, {}).registrationsFor('python', python, ['**/*.py'])).toEqual([]);
  });

  it("passes on a server's own registrations only for routed requests the editor takes and was not told of, each once, under the server's ids", () => {
    const dynamic = { dynamicRegistration: true };
    const client = { textDocument: { hover: dynamic, formatting: dynamic, codeLens: dynamic, synchronization: dynamic, diagnostic: dynamic }, workspace: { executeCommand: dynamic, didChangeWatchedFiles: dynamic, didChangeConfiguration: dynamic, fileOperations: dynamic } };
    const forwarded = new ForwardedRegistrations(new LateCapabilities({ hoverProvider: true, executeCommandProvider: { commands: ['codebuddy.approve'] } }, client));
    const patterns = ['**/*.py'];
    const given = forwarded.register('python', patterns, [
      // The facade's own, or announced at initialize (the editor would ask twice): kept back.
      { id: '1', method: 'workspace/didChangeWatchedFiles', registerOptions: { watchers: [{ globPattern: '**' }] } },
      { id: '2', method: 'workspace/didChangeConfiguration' },
      { id: '3', method: 'textDocument/didSave', registerOptions: { documentSelector: null } },
      { id: '4', method: 'textDocument/diagnostic', registerOptions: { documentSelector: null } },
      { id: '5', method: 'workspace/willRenameFiles', registerOptions: { filters: [] } },
      { id: '6', method: 'textDocument/hover', registerOptions: { documentSelector: null } },
      { id: '7', method: 'workspace/executeCommand', registerOptions: { commands: ['codebuddy.approve'] } },
      // Passed on: a selector's scheme dropped (alone, it means the server's documents), none given = the server's documents.
      { id: '8', method: 'textDocument/formatting', registerOptions: { documentSelector: [{ scheme: 'file', language: 'python' }, { scheme: 'file' }] } },
      { id: '9', method: 'textDocument/codeLens', registerOptions: { resolveProvider: false } },
      { id: '10', method: 'workspace/executeCommand', registerOptions: { commands: ['py.a', 'codebuddy.approve', 'py.a', 7] } },
    ]);
    expect(given).toEqual([
      { id: 'codebuddy/python/registered/8', method: 'textDocument/formatting', registerOptions: { documentSelector: [{ language: 'python' }, { pattern: '**/*.py' }] } },
      { id: 'codebuddy/python/registered/9', method: 'textDocument/codeLens', registerOptions: { resolveProvider: false, documentSelector: [{ pattern: '**/*.py' }] } },
      { id: 'codebuddy/python/registered/10', method: 'workspace/executeCommand', registerOptions: { commands: ['py.a'] } },
    ]);
    // Once: the same again gives nothing; another server's same id is its own.
    expect(forwarded.register('python', patterns, [{ id: '9', method: 'textDocument/codeLens' }])).toEqual([]);
    expect(forwarded.register('go', ['**/*.go'], [{ id: '9', method: 'textDocument/codeLens' }])).toEqual([{ id: 'codebuddy/go/registered/9', method: 'textDocument/codeLens', registerOptions: { documentSelector: [{ pattern: '**/*.go' }] } }]);
    // Unregistered: only what the editor holds; a refused one is held no more, and its commands are free again.
    expect(forwarded.unregister('python', [{ id: '1' }, { id: '9' }])).toEqual([{ id: 'codebuddy/python/registered/9', method: 'textDocument/codeLens' }]);
    forwarded.refused(given.slice(2));
    expect(forwarded.unregister('python', [{ id: '10' }])).toEqual([]);
    expect(forwarded.register('go', ['**/*.go'], [{ id: 'c', method: 'workspace/executeCommand', registerOptions: { commands: ['py.a'] } }])).toHaveLength(1);
    // An editor taking nothing dynamically is given nothing.
    expect(new ForwardedRegistrations(new LateCapabilities({}, {})).register('python', patterns, [{ id: '9', method: 'textDocument/codeLens' }])).toEqual([]);
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
