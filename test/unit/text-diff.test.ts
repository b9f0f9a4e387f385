import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { applyTextDiff } from '../../src/sync/text-diff.js';

/** A document holding `from`, changed to `to`: the text it ends with and the update it took. */
function change(from: string, to: string): { text: string; updateBytes: number; inserted: number; deleted: number } {
  const doc = new Y.Doc();
  const text = doc.getText('content');
  text.insert(0, from);
  let updateBytes = 0;
  let inserted = 0;
  let deleted = 0;
  doc.on('update', (update: Uint8Array) => (updateBytes += update.length));
  text.observe((event) => {
    for (const op of event.delta) {
      if (typeof op.insert === 'string') inserted += op.insert.length;
      if (op.delete) deleted += op.delete;
    }
  });
  doc.transact(() => applyTextDiff(text, from, to));
  return { text: text.toString(), updateBytes, inserted, deleted };
}

describe('applyTextDiff', () => {
  it('makes only the edit: one changed word in a long text inserts and deletes just that', () => {
    const head = 'a'.repeat(10_000);
    const result = change(`${head} cat ${head}`, `${head} dog ${head}`);
    expect(result.text).toBe(`${head} dog ${head}`);
    expect(result.inserted).toBeLessThanOrEqual(3);
    expect(result.deleted).toBeLessThanOrEqual(3);
    expect(result.updateBytes).toBeLessThan(100);
  });

  it('never splits a surrogate pair', () => {
    expect(change('x😀y', 'x😃y').text).toBe('x😃y');
    expect(change('😀', '😀😀').text).toBe('😀😀');
  });

  it('replaces unrelated large contents whole instead of diffing them character by character', () => {
    const from = Array.from({ length: 20_000 }, (_, i) => `line ${i}`).join('\n');
    const to = Array.from({ length: 20_000 }, (_, i) => `other ${i * 7}`).join('\n');
    const started = performance.now();
    expect(change(from, to).text).toBe(to);
    // An unbounded O(N·D) diff of these takes minutes; bounded only by D, seconds. Two 20 ms
    // attempts and the replacement (generous: the machine is shared).
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('handles empty sides', () => {
    expect(change('', 'new').text).toBe('new');
    expect(change('old', '').text).toBe('');
  });
});
