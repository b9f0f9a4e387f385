import { diffChars, diffLines } from 'diff';
import type * as Y from 'yjs';

/** Past this many edits, a diff gives up: characters, then lines, then the middle is replaced whole. */
const MAX_EDITS = 2000;
/** And past this long: the cost is O((N+M)·D), so a bound on D alone still allows seconds on large files. */
const DIFF_TIMEOUT_MS = 20;

/**
 * Turns `text`, the content of `target`, into `next` by the fewest inserts and deletes a
 * diff finds, so that what other editors have in the rest of the document (their cursors,
 * their concurrent edits) stays where it is. The common head and tail are skipped first
 * (most changes are local); the middle is diffed by characters, by lines when it changed a
 * lot, and replaced whole when even that is too costly (the diff is O(N·D): two unrelated
 * megabytes diffed unbounded would stall the server for everyone).
 * Call inside a transaction.
 */
export function applyTextDiff(target: Y.Text, text: string, next: string): void {
  if (text === next) return;
  let head = 0;
  const shorter = Math.min(text.length, next.length);
  while (head < shorter && text.charCodeAt(head) === next.charCodeAt(head)) head++;
  let tail = 0;
  while (tail < shorter - head && text.charCodeAt(text.length - 1 - tail) === next.charCodeAt(next.length - 1 - tail)) tail++;
  // Never split a surrogate pair: Y.Text counts UTF-16 units, but a half pair is not text.
  if (head > 0 && isHighSurrogate(text.charCodeAt(head - 1))) head--;
  if (tail > 0 && isLowSurrogate(text.charCodeAt(text.length - tail))) tail--;
  const before = text.slice(head, text.length - tail);
  const after = next.slice(head, next.length - tail);
  const bounds = { maxEditLength: MAX_EDITS, timeout: DIFF_TIMEOUT_MS };
  const parts = diffChars(before, after, bounds) ??
    diffLines(before, after, bounds) ?? [
      { value: before, removed: true, added: false },
      { value: after, added: true, removed: false },
    ];
  let index = head;
  for (const part of parts) {
    if (part.added) {
      target.insert(index, part.value);
      index += part.value.length;
    } else if (part.removed) {
      target.delete(index, part.value.length);
    } else {
      index += part.value.length;
    }
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
