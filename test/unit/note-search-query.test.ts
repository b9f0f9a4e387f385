import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MAX_QUERY_TERMS, translateQuery } from '../../src/notes/search-query.js';

const refused = (query: string) => {
  try {
    translateQuery(query);
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return 'accepted';
};

describe('note search query translation', () => {
  it('quotes every term, so FTS5 syntax in user text is only words', () => {
    expect(translateQuery('parser')).toBe('{title body} : (("parser"))');
    expect(translateQuery('parse* "exact words" title:plan -draft')).toBe('{title body} : ((("parse"* AND "exact words" AND title : "plan") NOT ("draft")))');
    expect(translateQuery('a1 b2 OR c3')).toBe('{title body} : (("a1" AND "b2") OR ("c3"))');
    expect(translateQuery('NEAR(a b)')).toBe('{title body} : (("NEAR(a" AND "b)"))');
    expect(translateQuery('scope:abc')).toBe('{title body} : (("scope:abc"))');
    expect(translateQuery('body:"two words"*')).toBe('{title body} : ((body : "two words"*))');
  });

  it.each([
    ['an unbalanced quote', 'say "hello'],
    ['a quote inside a word', 'ab"cd'],
    ['only punctuation', '( ) * -'],
    ['only excluded terms', '-draft -old'],
    ['a dangling OR', 'parser OR'],
    ['a leading OR', 'OR parser'],
    ['a one-letter prefix', 'a*'],
    ['an empty phrase', '""'],
    ['an empty column filter', 'title:'],
    ['too many terms', Array.from({ length: MAX_QUERY_TERMS + 1 }, (_, i) => `w${i}`).join(' ')],
  ])('refuses %s with E_INVALID_ARGUMENT', (_label, query) => {
    expect(refused(query)).toBe('E_INVALID_ARGUMENT');
  });

  it('every translation of hostile input is a valid FTS5 expression', () => {
    const db = new Database(':memory:');
    db.exec("CREATE VIRTUAL TABLE f USING fts5(scope, title, body, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')");
    db.prepare('INSERT INTO f (rowid, scope, title, body) VALUES (1, ?, ?, ?)').run('sabc', 'NEAR plan', 'col:value ^start "quoted" (paren)');
    const hostile = ['NEAR(a b, 2)', '^start', 'scope:sabc', 'col:value', '(paren)', "'; DROP TABLE f; --", 'a AND', 'NOT b', 'x:y:z', '{scope}', '"""', 'émigré naïve', '日本語 テキスト', '🙂 emoji', 'body:"(paren)"', 'a-b-c', 'plan*'];
    for (const query of hostile) {
      let expression: string;
      try {
        expression = translateQuery(query);
      } catch (error) {
        expect((error as { code?: string }).code, query).toBe('E_INVALID_ARGUMENT');
        continue;
      }
      expect(() => db.prepare('SELECT rowid FROM f WHERE f MATCH ?').all(`scope : "sabc" AND ${expression}`), query).not.toThrow();
    }
    // The scope column is never searched by user terms: its token finds nothing.
    expect(db.prepare('SELECT rowid FROM f WHERE f MATCH ?').all(translateQuery('sabc'))).toEqual([]);
    expect(db.prepare('SELECT rowid FROM f WHERE f MATCH ?').all(translateQuery('NEAR'))).toEqual([{ rowid: 1 }]);
  });
});
