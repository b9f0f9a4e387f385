import type { Position, Range } from 'vscode-languageserver-protocol';

/**
 * Offsets of LSP positions (0-based line, UTF-16 character: what JavaScript strings index)
 * in one text, its line starts computed once. Lines end at `\n`, `\r\n` or `\r`, as the
 * protocol says. A position past its line's end, or past the last line, is outside: a server
 * naming one computed against another text than this, and the caller refuses it.
 */
export class LineIndex {
  private readonly starts: number[] = [0];
  private readonly ends: number[] = [];

  constructor(readonly text: string) {
    const pattern = /\r\n|\r|\n/g;
    for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
      this.ends.push(match.index);
      this.starts.push(match.index + match[0].length);
    }
    this.ends.push(text.length);
  }

  offsetAt(position: Position): number | undefined {
    const { line, character } = position;
    if (!Number.isInteger(line) || !Number.isInteger(character) || line < 0 || character < 0 || line >= this.starts.length) return undefined;
    const offset = this.starts[line]! + character;
    return offset <= this.ends[line]! ? offset : undefined;
  }

  /** The position of an offset in the text (clamped to it). */
  positionAt(offset: number): Position {
    const target = Math.max(0, Math.min(offset, this.text.length));
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.starts[middle]! <= target) low = middle;
      else high = middle - 1;
    }
    return { line: low, character: Math.min(target, this.ends[low]!) - this.starts[low]! };
  }

  /** The text a range covers, or undefined when it lies outside or runs backwards. */
  slice(range: Range): string | undefined {
    const start = this.offsetAt(range.start);
    const end = this.offsetAt(range.end);
    return start === undefined || end === undefined || end < start ? undefined : this.text.slice(start, end);
  }
}
