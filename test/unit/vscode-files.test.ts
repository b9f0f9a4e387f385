import { describe, expect, it } from 'vitest';
import { baseName, operationPath, uriPartsOf, workspacePathOf } from '../../clients/vscode/src/codebuddy-uri.js';
import { fileSystemErrorOf } from '../../clients/vscode/src/file-system-errors.js';
import { RestError } from '../../clients/vscode/src/rest-client.js';
import { StatPoller, type Change, type Signature } from '../../clients/vscode/src/stat-poller.js';

/* The VS Code extension's file-system parts (clients/vscode), pure: VS Code itself cannot be downloaded here. */

describe('codebuddy: URIs', () => {
  it('name a workspace (authority) and a path relative to its root, both ways', () => {
    expect(workspacePathOf({ scheme: 'codebuddy', authority: 'shop', path: '/src/app.ts' })).toEqual({ workspace: 'shop', path: 'src/app.ts' });
    expect(workspacePathOf({ scheme: 'codebuddy', authority: 'ws_1', path: '/' })).toEqual({ workspace: 'ws_1', path: '' });
    expect(workspacePathOf({ scheme: 'codebuddy', authority: 'ws_1', path: '' })).toEqual({ workspace: 'ws_1', path: '' });
    expect(workspacePathOf({ scheme: 'codebuddy', authority: 'w', path: '//a//b c/' })).toEqual({ workspace: 'w', path: 'a/b c' });
    expect(uriPartsOf({ workspace: 'shop', path: 'src/app.ts' })).toEqual({ scheme: 'codebuddy', authority: 'shop', path: '/src/app.ts' });
    expect(uriPartsOf({ workspace: 'shop', path: '' })).toEqual({ scheme: 'codebuddy', authority: 'shop', path: '/' });
    for (const path of ['', 'a', 'a/b/c.ts']) expect(workspacePathOf(uriPartsOf({ workspace: 'w', path }))).toEqual({ workspace: 'w', path });
  });

  it('refuse another scheme, a missing workspace, and . or .. segments', () => {
    expect(() => workspacePathOf({ scheme: 'file', authority: '', path: '/etc/passwd' })).toThrow('not a codebuddy: URI (file:)');
    expect(() => workspacePathOf({ scheme: 'codebuddy', authority: '', path: '/a' })).toThrow('codebuddy: URIs name the workspace first: codebuddy://<workspace>/<path>');
    expect(() => workspacePathOf({ scheme: 'codebuddy', authority: 'w', path: '/a/../../etc' })).toThrow('/a/../../etc: . and .. are not followed in codebuddy: paths');
    expect(() => workspacePathOf({ scheme: 'codebuddy', authority: 'w', path: '/./a' })).toThrow('. and .. are not followed');
  });

  it('give the operations their path for the root, and names for a listing', () => {
    expect(operationPath('')).toBe('.');
    expect(operationPath('src')).toBe('src');
    expect(baseName('src/lib/a.ts')).toBe('a.ts');
    expect(baseName('top')).toBe('top');
  });
});

describe('REST errors as VS Code file-system errors', () => {
  it('map by the stable code first, then by HTTP status, keeping the code in the message', () => {
    const cases: [RestError, string][] = [
      [new RestError(404, 'E_NOT_FOUND', 'a.ts not found'), 'FileNotFound'],
      [new RestError(409, 'E_CONFLICT', 'b exists; pass overwrite: true to replace it'), 'FileExists'],
      [new RestError(401, 'E_UNAUTHENTICATED', 'no token'), 'NoPermissions'],
      [new RestError(403, 'E_FORBIDDEN', 'denied by the policy'), 'NoPermissions'],
      [new RestError(400, 'E_PATH_OUTSIDE_WORKSPACE', '../x is outside'), 'NoPermissions'],
      [new RestError(400, 'E_NOT_A_DIRECTORY', 'a.ts is not a directory'), 'FileNotADirectory'],
      [new RestError(400, 'E_NOT_A_FILE', 'src is a directory'), 'FileIsADirectory'],
      [new RestError(503, 'E_UNAVAILABLE', 'down'), 'Unavailable'],
      [new RestError(504, 'E_TIMEOUT', 'slow'), 'Unavailable'],
      [new RestError(0, 'E_NETWORK', 'unreachable'), 'Unavailable'],
      [new RestError(503, 'E_SOMETHING_NEW', 'a code this version does not know'), 'Unavailable'],
      [new RestError(404, 'E_BAD_RESPONSE', 'HTTP 404 without CodeBuddy\'s JSON'), 'Unavailable'],
      [new RestError(404, 'E_SOMETHING_NEW', 'unknown code, known status'), 'FileNotFound'],
      [new RestError(413, 'E_TOO_LARGE', 'content is 9 bytes; the limit is 8'), 'Unknown'],
      [new RestError(422, 'E_UNSUPPORTED', 'no'), 'Unknown'],
      [new RestError(400, 'E_INVALID_ARGUMENT', 'bad'), 'Unknown'],
    ];
    for (const [error, kind] of cases) expect(fileSystemErrorOf(error)).toEqual({ kind, message: `${error.code}: ${error.message}` });
    expect(fileSystemErrorOf(new Error('odd'))).toEqual({ kind: 'Unknown', message: 'odd' });
  });
});

describe('polling watched files', () => {
  /** Signatures as a test sets them; a key missing from the map does not exist. */
  const files = new Map<string, Signature>();
  const poller = (seen: Change[][], failing = new Set<string>()) =>
    new StatPoller({
      intervalMs: 3_600_000, // rounds are driven by poll() here, never by the timer
      signature: async (key) => {
        if (failing.has(key)) throw new Error('unreachable');
        return files.get(key);
      },
      onChanges: (changes) => seen.push(changes),
    });

  it('records the first sighting, then reports created, changed and deleted', async () => {
    const seen: Change[][] = [];
    const watcher = poller(seen);
    files.clear();
    files.set('a', 'file:1');
    watcher.watch('a');
    watcher.watch('b');
    expect(await watcher.poll()).toEqual([]);
    files.set('a', 'file:2');
    files.set('b', 'file:1');
    expect(await watcher.poll()).toEqual([
      { key: 'a', type: 'changed' },
      { key: 'b', type: 'created' },
    ]);
    files.delete('a');
    expect(await watcher.poll()).toEqual([{ key: 'a', type: 'deleted' }]);
    expect(await watcher.poll()).toEqual([]);
    expect(seen).toEqual([
      [
        { key: 'a', type: 'changed' },
        { key: 'b', type: 'created' },
      ],
      [{ key: 'a', type: 'deleted' }],
    ]);
    watcher.dispose();
  });

  it('says nothing about a key it cannot reach, and counts watchers per key', async () => {
    const failing = new Set(['a']);
    const watcher = poller([], failing);
    files.clear();
    files.set('a', 'x');
    const first = watcher.watch('a');
    const second = watcher.watch('a');
    expect(await watcher.poll()).toEqual([]);
    files.set('a', 'y');
    expect(await watcher.poll()).toEqual([]);
    failing.clear();
    expect(await watcher.poll()).toEqual([]); // first signature seen: recorded, not a change
    first.stop();
    first.stop(); // twice is once
    expect(watcher.size).toBe(1);
    second.stop();
    expect(watcher.size).toBe(0);
    watcher.dispose();
  });

  it('refuses watches past its limit, and stops on dispose', async () => {
    const seen: Change[][] = [];
    const watcher = new StatPoller({ intervalMs: 3_600_000, maxWatched: 2, signature: async (key) => files.get(key), onChanges: (changes) => seen.push(changes) });
    expect([watcher.watch('a').watching, watcher.watch('b').watching, watcher.watch('c').watching]).toEqual([true, true, false]);
    watcher.dispose();
    expect(watcher.size).toBe(0);
    expect(await watcher.poll()).toEqual([]);
    expect(seen).toEqual([]);
  });
});
