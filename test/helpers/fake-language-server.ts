/**
 * A tiny language server for the failure tests, where a real server cannot be made to fail
 * on cue: it hangs, floods, sends a huge message, or reports what it has open, depending on
 * the line a hover asks about. It is started through the registry's configuration
 * (`codeServers`) as `node -e <this source>`, so it runs in the same sandbox as real servers.
 * It advertises hover and definition only (references: unsupported).
 *
 * At `initialized` it registers a watcher for `**\/*.fake`.
 * Hover at line 1: "open: <path> v<version>, ...; watched: <path>:<type>, ..." (the documents it
 * has open, the file events it was sent);
 * line 2: never answers (and writes /workspace/.hanging, so a test knows the request arrived);
 * line 3: starts a 50 MB message; line 4: 5,000 log notifications of 2 KB, then "flooded";
 * line 5: asks the client to apply an edit to the document (workspace/applyEdit) and answers
 * "applied: <its answer>" (line 7: the same for an edit to file:///etc/passwd); line 6: "cancelled: N", the $/cancelRequest notifications it received.
 * Line 8: reports progress on the hover's own workDoneToken (begin titled "hover at <path>:<column>",
 * end) and a partial result (a location of the document) on its partialResultToken, then answers
 * "tokens: <the tokens it was given>"; line 9: creates a progress token of its own
 * (window/workDoneProgress/create), and once answered sends begin, a logMessage, a showMessage,
 * a $/logTrace and end, then answers "created: <the create's answer>". A real server reports
 * request progress only when it feels like it, so this is where the routing is checked.
 * Definition at line 10: 2,000 locations (about 150 KB), half in the document, half in
 * other/<i>.fake; at line 11: a large answer followed by a second "id" (an attempt to answer
 * another request with it).
 * Hover at line 12 registers (client/registerCapability, id "fmt") formatting for every document
 * (no selector), a second watcher (id "w2") and (id "cmd") the command "fake.later", and
 * answers "registered: <the answer>"; line 13 unregisters "fmt" and "cmd" and answers
 * "unregistered"; line 14 sends 20 registrations of 150 code lens providers each (ids lens-<r>-<i>)
 * and two malformed ones, and answers "flooded: <the distinct answers>"; line 15 registers document
 * links (id "links") for a relative pattern under file:///workspace/sub. Formatting answers one edit inserting "formatted by <fake|renamer>";
 * the command "fake.later" answers "later ran".
 * Each line of a document containing ERR is published as a diagnostic.
 * With /workspace/probe.json ({"paths": [...]}) present at start, it writes to stderr its uid
 * and whether it can list each path, then exits 3.
 * With FAKE_GATE=1 (GATED_SERVER) it answers initialize only once /workspace/gate.open exists:
 * a test holds an editor's initialize in flight for as long as it likes.
 * With FAKE_RENAMES=1 in its environment (RENAME_SERVER) it also renames: prepareRename
 * answers the position with the placeholder "thing" (null at line 1, column 1), and rename
 * answers whatever WorkspaceEdit /workspace/edit.json holds, hostile ones included.
 */
export const FAKE_SERVER_SOURCE = `
const fs = require('fs');
if (fs.existsSync('/workspace/probe.json')) {
  const { paths } = JSON.parse(fs.readFileSync('/workspace/probe.json', 'utf8'));
  const seen = paths.map((p) => { try { return p + '=' + fs.readdirSync(p).length + ' entries'; } catch (e) { return p + '=' + e.code; } });
  process.stderr.write('uid=' + process.getuid() + ' ' + seen.join(' ') + '\\n');
  process.exit(3);
}
let buf = Buffer.alloc(0);
const docs = new Map();
const watched = [];
const send = (m) => { const b = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...m })); process.stdout.write('Content-Length: ' + b.length + '\\r\\n\\r\\n'); process.stdout.write(b); };
const texts = new Map();
const cancelled = [];
const waiting = new Map();
const publish = (uri, version) => send({ method: 'textDocument/publishDiagnostics', params: { uri, version, diagnostics: (texts.get(uri) || '').split('\\n').flatMap((text, line) => text.includes('ERR') ? [{ range: { start: { line, character: 0 }, end: { line, character: text.length } }, severity: 1, message: text }] : []) } });
function handle(m) {
  const p = m.params || {};
  if (m.method === 'initialize' && process.env.FAKE_GATE === '1' && !fs.existsSync('/workspace/gate.open')) { const gate = setInterval(() => { if (fs.existsSync('/workspace/gate.open')) { clearInterval(gate); handle(m); } }, 20); return; }
  const renames = process.env.FAKE_RENAMES === '1';
  if (m.method === 'initialize') send({ id: m.id, result: { capabilities: { textDocumentSync: 1, hoverProvider: true, definitionProvider: true, ...(renames ? { renameProvider: { prepareProvider: true } } : {}) } } });
  else if (renames && m.method === 'textDocument/prepareRename') send({ id: m.id, result: p.position.line === 0 && p.position.character === 0 ? null : { range: { start: p.position, end: p.position }, placeholder: 'thing' } });
  else if (renames && m.method === 'textDocument/rename') send({ id: m.id, result: JSON.parse(fs.readFileSync('/workspace/edit.json', 'utf8')) });
  else if (m.method === 'initialized') send({ id: 'watch-1', method: 'client/registerCapability', params: { registrations: [{ id: 'w', method: 'workspace/didChangeWatchedFiles', registerOptions: { watchers: [{ globPattern: '**/*.fake' }] } }] } });
  else if (m.method === 'workspace/didChangeWatchedFiles') watched.push(...p.changes.map((c) => c.uri.replace('file:///workspace/', '') + ':' + c.type));
  else if (m.method === 'textDocument/didOpen') { docs.set(p.textDocument.uri, p.textDocument.version); texts.set(p.textDocument.uri, p.textDocument.text); publish(p.textDocument.uri, p.textDocument.version); }
  else if (m.method === 'textDocument/didChange') { docs.set(p.textDocument.uri, p.textDocument.version); texts.set(p.textDocument.uri, p.contentChanges[p.contentChanges.length - 1].text); publish(p.textDocument.uri, p.textDocument.version); }
  else if (m.method === '$/cancelRequest') cancelled.push(p.id);
  else if (m.id !== undefined && m.method === undefined && waiting.has(m.id)) { const answer = waiting.get(m.id); waiting.delete(m.id); answer(m.result); }
  else if (m.method === 'textDocument/didClose') docs.delete(p.textDocument.uri);
  else if (m.method === 'textDocument/hover') {
    const line = p.position.line + 1;
    if (line === 1) send({ id: m.id, result: { contents: 'open: ' + [...docs].map(([u, v]) => u.replace('file:///workspace/', '') + ' v' + v).join(', ') + (watched.length ? '; watched: ' + watched.join(', ') : '') } });
    else if (line === 2) fs.writeFileSync('/workspace/.hanging', 'yes');
    else if (line === 3) { process.stdout.write('Content-Length: 50000000\\r\\n\\r\\n'); process.stdout.write(Buffer.alloc(1 << 20, 120)); }
    else if (line === 4) { const text = 'x'.repeat(2048); for (let i = 0; i < 5000; i++) send({ method: 'window/logMessage', params: { type: 4, message: text } }); send({ id: m.id, result: { contents: 'flooded' } }); }
    else if (line === 5 || line === 7) { const id = 'edit-' + m.id; const target = line === 5 ? p.textDocument.uri : 'file:///etc/passwd'; waiting.set(id, (result) => send({ id: m.id, result: { contents: 'applied: ' + (result && result.applied) } })); send({ id, method: 'workspace/applyEdit', params: { label: 'fake', edit: { changes: { [target]: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: '// ' }] } } } }); }
    else if (line === 6) send({ id: m.id, result: { contents: 'cancelled: ' + cancelled.length } });
    else if (line === 8) { if (p.workDoneToken !== undefined) send({ method: '$/progress', params: { token: p.workDoneToken, value: { kind: 'begin', title: 'hover at ' + p.textDocument.uri.replace('file:///workspace/', '') + ':' + p.position.character } } }); if (p.partialResultToken !== undefined) send({ method: '$/progress', params: { token: p.partialResultToken, value: [{ uri: p.textDocument.uri, range: { start: p.position, end: p.position } }] } }); if (p.workDoneToken !== undefined) send({ method: '$/progress', params: { token: p.workDoneToken, value: { kind: 'end' } } }); send({ id: m.id, result: { contents: 'tokens: ' + [p.workDoneToken, p.partialResultToken].join(' ') } }); }
    else if (line === 9) { const token = 'load-' + m.id; const id = 'create-' + m.id; waiting.set(id, (result) => { send({ method: '$/progress', params: { token, value: { kind: 'begin', title: 'loading' } } }); send({ method: 'window/logMessage', params: { type: 3, message: 'log of ' + token } }); send({ method: 'window/showMessage', params: { type: 3, message: 'message of ' + token } }); send({ method: '$/logTrace', params: { message: 'trace of ' + token } }); send({ method: '$/progress', params: { token, value: { kind: 'end', message: 'loaded' } } }); send({ id: m.id, result: { contents: 'created: ' + JSON.stringify(result) } }); }); send({ id, method: 'window/workDoneProgress/create', params: { token } }); }
    else if (line === 12) { const id = 'register-' + m.id; waiting.set(id, (result) => send({ id: m.id, result: { contents: 'registered: ' + JSON.stringify(result) } })); send({ id, method: 'client/registerCapability', params: { registrations: [{ id: 'fmt', method: 'textDocument/formatting', registerOptions: { documentSelector: null } }, { id: 'w2', method: 'workspace/didChangeWatchedFiles', registerOptions: { watchers: [{ globPattern: '**/*.txt' }] } }, { id: 'cmd', method: 'workspace/executeCommand', registerOptions: { commands: ['fake.later'] } }] } }); }
    else if (line === 13) { const id = 'unregister-' + m.id; waiting.set(id, () => send({ id: m.id, result: { contents: 'unregistered' } })); send({ id, method: 'client/unregisterCapability', params: { unregisterations: [{ id: 'fmt', method: 'textDocument/formatting' }, { id: 'cmd', method: 'workspace/executeCommand' }] } }); }
    else if (line === 15) { const id = 'links-' + m.id; waiting.set(id, () => send({ id: m.id, result: { contents: 'links registered' } })); send({ id, method: 'client/registerCapability', params: { registrations: [{ id: 'links', method: 'textDocument/documentLink', registerOptions: { documentSelector: [{ scheme: 'file', pattern: { baseUri: 'file:///workspace/sub', pattern: '**/*.fake' } }] } }] } }); }
    else if (line === 14) { let left = 22; const answers = []; const done = (result) => { answers.push(JSON.stringify(result)); if (--left === 0) send({ id: m.id, result: { contents: 'flooded: ' + [...new Set(answers)].join(' ') } }); }; for (let r = 0; r < 20; r++) { const id = 'flood-' + m.id + '-' + r; waiting.set(id, done); send({ id, method: 'client/registerCapability', params: { registrations: Array.from({ length: 150 }, (_, i) => ({ id: 'lens-' + r + '-' + i, method: 'textDocument/codeLens', registerOptions: {} })) } }); } for (const [k, params] of [['bad-1', { registrations: 'x' }], ['bad-2', {}]]) { const id = k + '-' + m.id; waiting.set(id, done); send({ id, method: 'client/registerCapability', params }); } }
    else send({ id: m.id, result: null });
  }
  else if (m.method === 'textDocument/formatting') send({ id: m.id, result: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: 'formatted by ' + (renames ? 'renamer' : 'fake') }] });
  else if (m.method === 'workspace/executeCommand' && p.command === 'fake.later') send({ id: m.id, result: 'later ran' });
  else if (m.method === 'textDocument/definition' && p.position.line === 9) send({ id: m.id, result: Array.from({ length: 2000 }, (_, i) => ({ uri: i % 2 ? p.textDocument.uri : 'file:///workspace/other/' + i + '.fake', range: { start: { line: i, character: 0 }, end: { line: i, character: 1 } } })) });
  else if (m.method === 'textDocument/definition' && p.position.line === 10) { const b = Buffer.from('{"jsonrpc":"2.0","id":' + m.id + ',"result":' + JSON.stringify(Array.from({ length: 2000 }, () => ({ uri: p.textDocument.uri }))) + ',"id":0}'); process.stdout.write('Content-Length: ' + b.length + '\\r\\n\\r\\n'); process.stdout.write(b); }
  else if (m.method === 'textDocument/definition') send({ id: m.id, result: [] });
  else if (m.method === 'shutdown') send({ id: m.id, result: null });
  else if (m.method === 'exit') process.exit(0);
  else if (m.id !== undefined) send({ id: m.id, error: { code: -32601, message: 'unhandled ' + m.method } });
}
process.stdin.on('data', (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  for (;;) {
    const end = buf.indexOf('\\r\\n\\r\\n');
    if (end < 0) return;
    const length = Number(/Content-Length: (\\d+)/i.exec(buf.subarray(0, end).toString())[1]);
    if (buf.length < end + 4 + length) return;
    const message = JSON.parse(buf.subarray(end + 4, end + 4 + length).toString());
    buf = buf.subarray(end + 4 + length);
    handle(message);
  }
});
`;

/** The `codeServers` entry that starts it for `*.fake` files on the local runtime. */
export const FAKE_SERVER = { id: 'fake', command: { local: ['{node}', '-e', FAKE_SERVER_SOURCE] }, languages: [{ id: 'fake', patterns: ['**/*.fake'] }], rootMarkers: ['marker.fake'] };

/** The same server renaming, for `*.ren` files: its edits are what the test writes to edit.json. */
export const RENAME_SERVER = { ...FAKE_SERVER, id: 'renamer', env: { FAKE_RENAMES: '1' }, languages: [{ id: 'ren', patterns: ['**/*.ren'] }], rootMarkers: [] };

/** The same server answering initialize only once the test opens its gate (writes gate.open), for `*.gate` files; relevant wherever marker.gate is. */
export const GATED_SERVER = { ...FAKE_SERVER, id: 'gated', env: { FAKE_GATE: '1' }, languages: [{ id: 'gate', patterns: ['**/*.gate'] }], rootMarkers: ['marker.gate'] };
