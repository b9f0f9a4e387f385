/**
 * Markdown checkboxes as tasks: which lines of a body are tasks, how the rows of an edited
 * body keep their ids, and how a task's line is rewritten when the task is updated.
 *
 * A task line is a list item whose text starts with a checkbox: `- [ ] text`, `* [x] text`,
 * `1. [X] text`, indented or not, outside fenced code blocks. `@name` (the first one) is the
 * assignee, `due:YYYY-MM-DD` (a real date) the due date; both stay part of the text.
 *
 * Ids when a body changes (`matchTaskIds`):
 *  1. a line whose text (whitespace collapsed, checkbox ignored) equals an old task's keeps
 *     that task's id; equal texts pair up in order of appearance. So a task keeps its id when
 *     its line moves, when lines are added or removed around it, and when it is ticked.
 *  2. a line still unpaired takes the id of the old task that stood in its place: the
 *     unpaired old task right after the partner of the nearest paired line above it (or
 *     the first old task, when none is above). So a task edited in place (reworded,
 *     reassigned, dated) stays the same task even when other lines moved.
 *  3. any other line is a new task; an old task left unpaired is gone.
 */

export interface TaskLine {
  /** 1-based line number in the body. */
  line: number;
  done: boolean;
  text: string;
  assignee: string | null;
  due: string | null;
}

const CHECKBOX = /^(\s*(?:[-*+]|\d{1,9}[.)])\s+)\[([ xX])\]([ \t]+)(.*\S.*)$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const ASSIGNEE = /(^|\s)@([A-Za-z0-9](?:[\w.-]{0,62}[\w-])?)(?=[\s.,;:!?)]|$)/;
const DUE = /(^|\s)due:(\d{4}-\d{2}-\d{2})(?=\s|$)/;

export const assigneePattern = /^[A-Za-z0-9](?:[\w.-]{0,62}[\w-])?$/;
export const duePattern = /^\d{4}-\d{2}-\d{2}$/;

/** A calendar date that exists (no 2026-02-30). */
export function isRealDate(value: string): boolean {
  if (!duePattern.test(value)) return false;
  const [year, month, day] = value.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function fieldsOf(text: string): { assignee: string | null; due: string | null } {
  const due = DUE.exec(text)?.[2];
  return { assignee: ASSIGNEE.exec(text)?.[2] ?? null, due: due !== undefined && isRealDate(due) ? due : null };
}

/** The task lines of a body, in order. */
export function parseTaskLines(body: string): TaskLine[] {
  const tasks: TaskLine[] = [];
  let fence: string | undefined;
  body.split('\n').forEach((raw, index) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const opening = FENCE.exec(line)?.[1];
    if (opening !== undefined) {
      // A fence closes with the same character, at least as long.
      if (fence === undefined) fence = opening;
      else if (opening[0] === fence[0] && opening.length >= fence.length) fence = undefined;
      return;
    }
    if (fence !== undefined) return;
    const match = CHECKBOX.exec(line);
    if (!match) return;
    const text = match[4]!.trim();
    tasks.push({ line: index + 1, done: match[2] !== ' ', text, ...fieldsOf(text) });
  });
  return tasks;
}

const normalized = (text: string) => text.replace(/\s+/g, ' ').trim();

/** The id each new line takes from the old tasks (undefined: a new task), by the rules above. */
export function matchTaskIds(old: readonly { id: string; line: number; text: string }[], fresh: readonly TaskLine[]): (string | undefined)[] {
  // Each text's old ids in line order, with the index of the next one to hand out (linear, however many repeat).
  const byText = new Map<string, { ids: string[]; next: number }>();
  for (const task of [...old].sort((a, b) => a.line - b.line)) {
    const key = normalized(task.text);
    const entry = byText.get(key);
    if (entry) entry.ids.push(task.id);
    else byText.set(key, { ids: [task.id], next: 0 });
  }
  const taken = new Set<string>();
  const ids = fresh.map((task) => {
    const entry = byText.get(normalized(task.text));
    const id = entry?.ids[entry.next];
    if (id !== undefined) {
      entry!.next++;
      taken.add(id);
    }
    return id;
  });
  // Rule 2: walk the new lines; after a paired line, the old task that followed its partner
  // is the candidate for the next unpaired line (and the one after it for the next, ...).
  const ordered = [...old].sort((a, b) => a.line - b.line);
  const position = new Map(ordered.map((task, index) => [task.id, index]));
  let candidate = 0;
  return ids.map((id) => {
    if (id !== undefined) {
      candidate = position.get(id)! + 1;
      return id;
    }
    const heir = ordered[candidate];
    if (heir === undefined || taken.has(heir.id)) return undefined;
    taken.add(heir.id);
    candidate++;
    return heir.id;
  });
}

export interface TaskChange {
  done?: boolean;
  text?: string;
  /** null removes the assignee. */
  assignee?: string | null;
  /** null removes the due date. */
  due?: string | null;
}

/** Replaces the first `marker` token of a text, removes it (null) or appends it. */
function withToken(text: string, pattern: RegExp, token: string | null): string {
  const match = pattern.exec(text);
  if (match) {
    const start = match.index + match[1]!.length;
    const end = match.index + match[0].length;
    if (token === null) return normalized(`${text.slice(0, match.index)}${text.slice(end)}`);
    return `${text.slice(0, start)}${token}${text.slice(end)}`;
  }
  return token === null ? text : `${text} ${token}`;
}

/** The task line rewritten with the change; its list marker and indentation are kept. */
export function rewriteTaskLine(line: string, change: TaskChange): string {
  const carriage = line.endsWith('\r') ? '\r' : '';
  const match = CHECKBOX.exec(carriage ? line.slice(0, -1) : line);
  if (!match) throw new Error('not a task line');
  let text = change.text ?? match[4]!.trim();
  if (change.assignee !== undefined) text = withToken(text, ASSIGNEE, change.assignee === null ? null : `@${change.assignee}`);
  if (change.due !== undefined) text = withToken(text, DUE, change.due === null ? null : `due:${change.due}`);
  const box = change.done === undefined ? match[2] : change.done ? 'x' : ' ';
  return `${match[1]}[${box}]${match[3]}${text}${carriage}`;
}
