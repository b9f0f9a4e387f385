/**
 * Where in a file the text an agent meant to replace most likely is, so a failed
 * exact-match edit can show it the real lines instead of just "not found".
 */
export interface ClosestMatch {
  startLine: number;
  endLine: number;
  similarity: number;
  lines: string[];
  /** The window equals the wanted text once whitespace is ignored. */
  whitespaceOnly: boolean;
}

const MAX_FILE_LINES = 50_000;
const MAX_WANTED_LINES = 30;

function bigrams(text: string): Set<string> {
  const normalized = text.replace(/\s+/g, ' ').trim();
  const grams = new Set<string>();
  for (let i = 0; i < normalized.length - 1; i++) grams.add(normalized.slice(i, i + 2));
  if (normalized.length === 1) grams.add(normalized);
  return grams;
}

/** Dice coefficient of two bigram sets: 1 for equal texts, 0 for nothing in common. */
function dice(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  const [small, large] = a.size < b.size ? [a, b] : [b, a];
  for (const gram of small) if (large.has(gram)) shared++;
  return (2 * shared) / (a.size + b.size);
}

const squash = (text: string) => text.replace(/\s+/g, '');

export function findClosestMatch(fileLines: string[], wanted: string): ClosestMatch | undefined {
  const wantedLines = wanted.split(/\r?\n/).slice(0, MAX_WANTED_LINES);
  while (wantedLines.length > 1 && wantedLines[wantedLines.length - 1]!.trim() === '') wantedLines.pop();
  const span = wantedLines.length;
  const lines = fileLines.slice(0, MAX_FILE_LINES);
  if (lines.length === 0) return undefined;

  const wantedGrams = wantedLines.map(bigrams);
  const lineGrams = lines.map(bigrams);
  let best = { start: 0, score: -1 };
  for (let start = 0; start + span <= lines.length || start === 0; start++) {
    let score = 0;
    for (let offset = 0; offset < span; offset++) {
      const grams = lineGrams[start + offset];
      score += grams ? dice(grams, wantedGrams[offset]!) : 0;
    }
    if (score > best.score) best = { start, score };
    if (start + span >= lines.length) break;
  }
  const window = lines.slice(best.start, best.start + span);
  return {
    startLine: best.start + 1,
    endLine: best.start + window.length,
    similarity: Math.round((best.score / span) * 100) / 100,
    lines: window,
    whitespaceOnly: squash(window.join('\n')) === squash(wantedLines.join('\n')),
  };
}
