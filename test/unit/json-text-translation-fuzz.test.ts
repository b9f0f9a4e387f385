import { describe, expect, it } from 'vitest';
import { UriTranslator } from '../../src/faces/lsp/uri-translation.js';
import { seededRandom } from '../helpers/seeded-random.js';

/**
 * The facade passes a large answer to the editor as the server wrote it, after its own JSON
 * scanner (json-text-translation.ts) has checked it is one JSON value. A scanner that accepts
 * what JSON.parse refuses would let a server smuggle text to the editor; one that refuses what
 * JSON.parse accepts would drop real answers. So: mutate valid answers at random (a seeded
 * generator, so a failure repeats) and require the scanner to agree with JSON.parse on every one,
 * and, where both accept, to translate exactly as the object walk does.
 */
const SAMPLES = [
  [{ uri: 'file:///workspace/a.ts', range: { start: { line: 1, character: 2 }, end: { line: 10, character: 0 } } }],
  // A references answer as servers write it: the facade's fast path.
  [
    { uri: 'file:///workspace', range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } },
    { uri: 'file:///workspaces/b.ts', range: { start: { line: 7, character: 12 }, end: { line: 7, character: 20 } } },
    { uri: 'file:///workspace/c.ts', range: { start: { line: 30, character: 1 }, end: { line: 31, character: 0 } } },
  ],
  { changes: { 'file:///workspace/b.ts': [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } }, newText: 'x\n"y"' }] } },
  { contents: { kind: 'markdown', value: '`a` \u00e9 \\ \u2028' }, n: [-0.5, 1e-7, 3e21, true, false, null] },
];
/** Characters that matter to a JSON scanner, and some that do not. */
const ALPHABET = ['{', '}', '[', ']', ',', ':', '"', '\\', '0', '1', '-', '+', '.', 'e', 'E', 't', 'n', 'u', ' ', '\n', '\t', '\u0001', 'a', '/', '\u00a0'];

describe('the facade\'s JSON text scanner', () => {
  it('accepts exactly the texts JSON.parse accepts, and translates them as the object walk does', () => {
    const random = seededRandom(20261123);
    const translator = new UriTranslator('file:///home/ana/shop');
    let accepted = 0;
    for (let round = 0; round < 20_000; round++) {
      const sample = SAMPLES[round % SAMPLES.length]!;
      let text = JSON.stringify(sample, null, round % 2 ? 1 : undefined);
      const mutations = 1 + Math.floor(random() * 3);
      for (let m = 0; m < mutations; m++) {
        const at = Math.floor(random() * (text.length + 1));
        const kind = random();
        const char = ALPHABET[Math.floor(random() * ALPHABET.length)]!;
        if (kind < 0.4) text = text.slice(0, at) + char + text.slice(at);
        else if (kind < 0.8) text = text.slice(0, at) + text.slice(at + 1);
        else text = text.slice(0, at) + char + text.slice(at + 1);
      }
      let parsed: { value: unknown } | undefined;
      try {
        parsed = { value: JSON.parse(text) };
      } catch {
        parsed = undefined;
      }
      const translated = translator.textToClient(text);
      expect(translated === undefined, text).toBe(parsed === undefined);
      if (parsed && translated !== undefined) {
        accepted++;
        expect(JSON.parse(translated), text).toEqual(translator.resultToClient(parsed.value));
      }
    }
    // The mutations leave a share of texts valid, so both sides of the agreement were exercised.
    expect(accepted).toBeGreaterThan(1_000);
  });
});
