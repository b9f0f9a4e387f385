import { describe, expect, it } from 'vitest';
import { isRealDate, matchTaskIds, parseTaskLines, rewriteTaskLine } from '../../src/notes/task-lines.js';

describe('task lines', () => {
  it('reads checkbox list items, their assignee and due date, outside code fences', () => {
    const body = ['# Plan', '- [ ] write the parser @ana due:2026-03-01', '  * [x] tokenizer', '1. [X] numbered @bo.', '- [ ]', '- [] not a box', '```', '- [ ] in a fence', '```', '+ [ ] bad due due:2026-02-30', 'text - [ ] not at start'].join('\n');
    expect(parseTaskLines(body)).toEqual([
      { line: 2, done: false, text: 'write the parser @ana due:2026-03-01', assignee: 'ana', due: '2026-03-01' },
      { line: 3, done: true, text: 'tokenizer', assignee: null, due: null },
      { line: 4, done: true, text: 'numbered @bo.', assignee: 'bo', due: null },
      { line: 10, done: false, text: 'bad due due:2026-02-30', assignee: null, due: null },
    ]);
  });

  it('keeps ids: moved lines by their text, lines edited in place by their neighbours; others are new', () => {
    const old = ['alpha', 'beta', 'gamma', 'dup', 'dup', 'omega'].map((text, index) => ({ id: `t${index + 1}`, line: index + 1, text }));
    // gamma moved to the top, alpha ticked, beta reworded where it stood, the second dup deleted, a task added at the end.
    const body = ['- [ ] gamma', '- [x] alpha', '- [ ] beta, reworded @ana', '- [ ] dup', '', '- [ ] omega', '- [ ] brand new'].join('\n');
    expect(matchTaskIds(old, parseTaskLines(body))).toEqual(['t3', 't1', 't2', 't4', 't6', undefined]);
    // Reworded as the very first line: its heir is the first old task.
    expect(matchTaskIds(old.slice(0, 2), parseTaskLines('- [ ] ALPHA\n- [ ] beta'))).toEqual(['t1', 't2']);
    // Equal texts pair in order, however many there are (linear: 20,000 lines).
    const many = Array.from({ length: 20_000 }, (_, index) => ({ id: `d${index}`, line: index + 1, text: 'same' }));
    const ids = matchTaskIds(many, parseTaskLines(Array.from({ length: 20_000 }, () => '- [ ] same').join('\n')));
    expect(ids[0]).toBe('d0');
    expect(ids[19_999]).toBe('d19999');
  });

  it('rewrites a line: status, assignee and due replaced, added or removed; indentation and marker kept', () => {
    const line = '  * [ ] ship it @ana due:2026-03-01';
    expect(rewriteTaskLine(line, { done: true })).toBe('  * [x] ship it @ana due:2026-03-01');
    expect(rewriteTaskLine(line, { assignee: 'bo' })).toBe('  * [ ] ship it @bo due:2026-03-01');
    expect(rewriteTaskLine(line, { assignee: null, due: null })).toBe('  * [ ] ship it');
    expect(rewriteTaskLine('- [x] plain\r', { done: false, assignee: 'cy', due: '2026-12-31' })).toBe('- [ ] plain @cy due:2026-12-31\r');
    expect(rewriteTaskLine(line, { text: 'ship v2' })).toBe('  * [ ] ship v2');
  });

  it('knows real dates', () => {
    expect(isRealDate('2024-02-29')).toBe(true);
    expect(isRealDate('2026-02-29')).toBe(false);
    expect(isRealDate('2026-13-01')).toBe(false);
  });
});
