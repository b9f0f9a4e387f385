import { CodeBuddyError } from '../core/errors.js';

/**
 * The search language `note_search` accepts, translated to an FTS5 MATCH expression. User
 * text never reaches MATCH as syntax: every term is emitted as a quoted FTS5 string, so
 * FTS5's own operators (`NEAR(`, `^`, `col:`, parentheses, stray quotes) are only words
 * here, and the only columns a query can name are `title` and `body`.
 *
 *   word          notes containing the word (all terms must match: AND)
 *   "a phrase"    the words in this order
 *   pre*          words starting with `pre` (at least 2 characters before the *)
 *   title:word    only in the title (also body:, and title:"a phrase", title:pre*)
 *   -word         notes without it (a group needs at least one term that is not excluded)
 *   a b OR c d    either group
 */

export const MAX_QUERY_TERMS = 32;
const MIN_PREFIX_CHARS = 2;

const invalid = (message: string) => new CodeBuddyError('E_INVALID_ARGUMENT', `query: ${message}`, { field: 'query' });

interface Term {
  negated: boolean;
  column?: 'title' | 'body';
  text: string;
  phrase: boolean;
  prefix: boolean;
}

/** A word or phrase is only worth a term when the tokenizer will find something in it. */
const hasToken = (text: string) => /[\p{L}\p{N}]/u.test(text);

function quoted(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

function emit(term: Term): string {
  const expression = `${quoted(term.text)}${term.prefix ? '*' : ''}`;
  return term.column ? `${term.column} : ${expression}` : expression;
}

/** Splits the query into OR-groups of terms; refuses what it cannot read, naming why. */
function parse(query: string): Term[][] {
  const groups: Term[][] = [[]];
  let count = 0;
  let i = 0;
  while (i < query.length) {
    const char = query[i]!;
    if (/\s/u.test(char)) {
      i++;
      continue;
    }
    let negated = false;
    let column: Term['column'];
    if (char === '-') {
      negated = true;
      i++;
    }
    const field = /^(title|body):/.exec(query.slice(i, i + 6));
    if (field) {
      column = field[1] as Term['column'];
      i += field[0].length;
    }
    let text: string;
    let phrase = false;
    if (query[i] === '"') {
      const end = query.indexOf('"', i + 1);
      if (end === -1) throw invalid('a quote is not closed; quote phrases as "like this"');
      text = query.slice(i + 1, end);
      phrase = true;
      i = end + 1;
    } else {
      let end = i;
      while (end < query.length && !/\s/u.test(query[end]!)) end++;
      text = query.slice(i, end);
      if (text.includes('"')) throw invalid('a quote inside a word; quote phrases as "like this"');
      i = end;
    }
    let prefix = false;
    if (!phrase && text.length > 1 && text.endsWith('*')) {
      prefix = true;
      text = text.slice(0, -1);
    } else if (phrase && query[i] === '*') {
      prefix = true;
      i++;
    }
    if (!negated && column === undefined && !phrase && text === 'OR') {
      if (groups.at(-1)!.length === 0) throw invalid('OR needs terms on both sides');
      groups.push([]);
      continue;
    }
    if (!hasToken(text)) {
      // Punctuation alone ("-", "*", "()") matches nothing a tokenizer keeps: not a term.
      if (column || phrase || prefix) throw invalid(`"${text.slice(0, 40)}" has no letters or digits to search for`);
      continue;
    }
    if (prefix && [...text.replace(/[^\p{L}\p{N}]/gu, '')].length < MIN_PREFIX_CHARS) throw invalid(`a prefix needs at least ${MIN_PREFIX_CHARS} letters or digits before the *`);
    if (++count > MAX_QUERY_TERMS) throw invalid(`at most ${MAX_QUERY_TERMS} terms`);
    groups.at(-1)!.push({ negated, ...(column ? { column } : {}), text, phrase, prefix });
  }
  if (groups.length > 1 && groups.at(-1)!.length === 0) throw invalid('OR needs terms on both sides');
  return groups;
}

/**
 * The FTS5 expression for a query, restricted to the title and body columns; the caller
 * adds the workspace scope. Refuses a query with nothing to search for.
 */
export function translateQuery(query: string): string {
  const groups = parse(query);
  if (groups.length === 1 && groups[0]!.length === 0) throw invalid('nothing to search for; give at least one word');
  const alternatives = groups.map((terms) => {
    const wanted = terms.filter((term) => !term.negated);
    const excluded = terms.filter((term) => term.negated);
    if (wanted.length === 0) throw invalid('a group of only excluded terms (-word) matches nothing; add a word to look for');
    const all = wanted.map(emit).join(' AND ');
    return excluded.length === 0 ? `(${all})` : `((${all}) NOT (${excluded.map(emit).join(' OR ')}))`;
  });
  return `{title body} : (${alternatives.join(' OR ')})`;
}
