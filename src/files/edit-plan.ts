import { CodeBuddyError } from '../core/errors.js';
import { findClosestMatch } from './closest-match.js';
import { splitLines } from './text-content.js';

export interface Edit {
  old: string;
  new: string;
  count?: number;
}

export interface EditPlan {
  content: string;
  replacements: number;
  firstChangedLine: number;
}

/**
 * Applies exact replacements to a text, in order, all or nothing: the text an edit would
 * produce, computed without writing, so applying and previewing are the same code.
 */
export function planEdits(path: string, original: string, edits: Edit[]): EditPlan {
  const crlf = original.includes('\r\n');
  let content = original;
  let replacements = 0;
  let firstChangedLine = Number.POSITIVE_INFINITY;
  edits.forEach((edit, index) => {
    // Agents write \n; a CRLF file still matches, and keeps its line endings.
    const [old, replacement] = crlf && !edit.old.includes('\r\n') ? [edit.old.replace(/\n/g, '\r\n'), edit.new.replace(/\r?\n/g, '\r\n')] : [edit.old, edit.new];
    const found = countOccurrences(content, old);
    const wanted = edit.count ?? 1;
    if (found === 0) throw noMatchError(path, content, edit.old, index);
    if (found !== wanted) {
      throw new CodeBuddyError(
        'E_EDIT_COUNT_MISMATCH',
        `edits[${index}].old occurs ${found} times in ${path}, expected ${wanted}; add surrounding lines to make it unique, or pass count: ${found}`,
        { field: `edits.${index}.old`, occurrences: found },
      );
    }
    firstChangedLine = Math.min(firstChangedLine, lineOf(content, content.indexOf(old)));
    content = content.split(old).join(replacement);
    replacements += found;
  });
  return { content, replacements, firstChangedLine };
}

function countOccurrences(haystack: string, needle: string): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) count++;
  return count;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let at = text.indexOf('\n'); at !== -1 && at < index; at = text.indexOf('\n', at + 1)) line++;
  return line;
}

function noMatchError(path: string, content: string, old: string, index: number): CodeBuddyError {
  const closest = findClosestMatch(splitLines(content), old);
  let message = `edits[${index}].old was not found in ${path}`;
  if (closest && closest.similarity > 0.3) {
    const shown = closest.lines.map((line, offset) => `${closest.startLine + offset}\t${line}`).join('\n');
    const hint = closest.whitespaceOnly ? ' (differs only in whitespace)' : '';
    message += `. Closest match, lines ${closest.startLine}-${closest.endLine}${hint}:\n${shown}`;
  }
  return new CodeBuddyError('E_EDIT_NO_MATCH', message, { field: `edits.${index}.old`, closest: closest ?? null });
}
