import { applyPatch, createTwoFilesPatch } from 'diff';
import { describe, expect, it } from 'vitest';
import { diffFromEdits } from '../../src/refactor/edit-diff.js';
import type { TextEdit } from '../../src/refactor/refactor-plan.js';

/** What the diff search writes for the same change (the plan's diff before edits were used), headers as plans show them. */
function searched(before: string, after: string, context: number): string {
  return createTwoFilesPatch('a/f.ts', 'b/f.ts', before, after, '', '', { context })
    .split('\n')
    .slice(1)
    .map((line) => (line.startsWith('--- ') || line.startsWith('+++ ') ? line.trimEnd() : line))
    .join('\n');
}

function apply(before: string, edits: readonly TextEdit[]): string {
  let text = before;
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) text = text.slice(0, edit.start) + edit.newText + text.slice(edit.start + edit.length);
  return text;
}

/** Every occurrence of `name` replaced by `to`, as a rename's edits. */
function renameEdits(text: string, name: string, to: string): TextEdit[] {
  const edits: TextEdit[] = [];
  for (let at = text.indexOf(name); at >= 0; at = text.indexOf(name, at + 1)) edits.push({ start: at, length: name.length, newText: to });
  return edits;
}

const module = [
  "import { formatMoney, type Amount } from './money';",
  '',
  'export class Cart {',
  '  private readonly lines: Amount[] = [];',
  '',
  '  describe(): string {',
  '    return `Cart: ${formatMoney(this.total())}`;',
  '  }',
  '',
  '  total(): Amount {',
  "    return { cents: 0, currency: 'EUR' };",
  '  }',
  '',
  '  receipt(): string[] {',
  '    return this.lines.map((line) => formatMoney(line));',
  '  }',
  '}',
  '',
].join('\n');

describe('diffFromEdits', () => {
  it('writes a rename across a file exactly as the diff search does, with 1 and 3 lines of context', () => {
    const edits = renameEdits(module, 'formatMoney', 'formatAmount');
    const after = apply(module, edits);
    expect(diffFromEdits('a/f.ts', 'b/f.ts', module, edits, 1)).toBe(
      [
        '--- a/f.ts',
        '+++ b/f.ts',
        '@@ -1,2 +1,2 @@',
        "-import { formatMoney, type Amount } from './money';",
        "+import { formatAmount, type Amount } from './money';",
        ' ',
        '@@ -6,3 +6,3 @@',
        '   describe(): string {',
        '-    return `Cart: ${formatMoney(this.total())}`;',
        '+    return `Cart: ${formatAmount(this.total())}`;',
        '   }',
        '@@ -14,3 +14,3 @@',
        '   receipt(): string[] {',
        '-    return this.lines.map((line) => formatMoney(line));',
        '+    return this.lines.map((line) => formatAmount(line));',
        '   }',
        '',
      ].join('\n'),
    );
    for (const context of [0, 1, 3]) expect(diffFromEdits('a/f.ts', 'b/f.ts', module, edits, context)).toBe(searched(module, after, context));
  });

  it('marks a last line without a line break, changed or as context', () => {
    const before = 'const a = 1;\nconst b = a;';
    const changedLast = renameEdits(before, 'b', 'c');
    expect(diffFromEdits('a/f.ts', 'b/f.ts', before, changedLast, 1)).toBe(searched(before, apply(before, changedLast), 1));
    expect(diffFromEdits('a/f.ts', 'b/f.ts', before, changedLast, 1)).toContain('-const b = a;\n\\ No newline at end of file\n+const c = a;\n\\ No newline at end of file\n');
    const contextLast = [{ start: 6, length: 1, newText: 'x' }];
    expect(diffFromEdits('a/f.ts', 'b/f.ts', before, contextLast, 1)).toBe(searched(before, apply(before, contextLast), 1));
  });

  it('merges hunks whose gap is at most twice the context, and splits wider ones', () => {
    const lines = Array.from({ length: 12 }, (_, index) => `line${index} = old;`);
    const before = `${lines.join('\n')}\n`;
    const at = (line: number) => ({ start: before.indexOf(`line${line} =`) + `line${line} = `.length, length: 3, newText: 'new' });
    const twoApart = [at(2), at(5)]; // a gap of 2 lines: one hunk at context 1
    const threeApart = [at(2), at(6)]; // a gap of 3: two hunks
    expect(diffFromEdits('a/f.ts', 'b/f.ts', before, twoApart, 1)!.match(/^@@/gm)).toHaveLength(1);
    expect(diffFromEdits('a/f.ts', 'b/f.ts', before, threeApart, 1)!.match(/^@@/gm)).toHaveLength(2);
    for (const edits of [twoApart, threeApart, [at(0), at(1), at(11)]]) expect(diffFromEdits('a/f.ts', 'b/f.ts', before, edits, 1)).toBe(searched(before, apply(before, edits), 1));
  });

  it('leaves to the diff search an edit that adds or removes a line break, or writes past the last line', () => {
    expect(diffFromEdits('a/f.ts', 'b/f.ts', 'a\nb\n', [{ start: 1, length: 0, newText: '\nc' }], 1)).toBeUndefined();
    expect(diffFromEdits('a/f.ts', 'b/f.ts', 'a\nb\n', [{ start: 1, length: 1, newText: '' }], 1)).toBeUndefined();
    expect(diffFromEdits('a/f.ts', 'b/f.ts', 'a\nb\n', [{ start: 4, length: 0, newText: 'c' }], 1)).toBeUndefined();
    expect(diffFromEdits('a/f.ts', 'b/f.ts', '', [{ start: 0, length: 0, newText: 'c' }], 1)).toBeUndefined();
  });

  it('skips a line an edit leaves as it was', () => {
    const before = 'a = 1;\nb = 2;\n';
    const edits = [{ start: 0, length: 1, newText: 'a' }, { start: 7, length: 1, newText: 'c' }];
    expect(diffFromEdits('a/f.ts', 'b/f.ts', before, edits, 0)).toBe('--- a/f.ts\n+++ b/f.ts\n@@ -2,1 +2,1 @@\n-b = 2;\n+c = 2;\n');
  });

  it('always gives a patch that turns the old text into the new, over generated single-line edits', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const words = ['foo', 'bar', '', 'x y', 'formatMoney', '\r'];
    let written = 0;
    for (let round = 0; round < 2000; round++) {
      const lines = Array.from({ length: 1 + random(10) }, () => Array.from({ length: random(3) }, () => words[random(words.length)]).join(' '));
      const before = lines.join('\n') + (random(2) ? '\n' : '');
      const edits: TextEdit[] = [];
      let from = 0;
      while (from < before.length && edits.length < 4) {
        const start = from + random(Math.max(1, Math.floor((before.length - from) / 2)));
        const length = Math.min(random(3), before.length - start);
        edits.push({ start, length, newText: words[random(words.length - 1)]! });
        from = start + length + 1;
      }
      const after = apply(before, edits);
      for (const context of [1, 3]) {
        const diff = diffFromEdits('a/f.ts', 'b/f.ts', before, edits, context);
        if (diff === undefined) continue;
        written++;
        if (after === before) expect(diff).toBe('');
        else expect(applyPatch(before, diff)).toBe(after);
      }
    }
    expect(written).toBeGreaterThan(1000);
  });
});
