import { RE2JS } from 're2js';
import { CodeBuddyError } from './errors.js';

/**
 * Regexes written by agents and tenants (`wait_for`, the built-in `file_search`, policy
 * `command` rules) run on re2js: a linear-time engine, so no pattern can backtrack for
 * seconds on a crafted line and stall the event loop every tenant shares. V8's RegExp is
 * never given such a pattern.
 *
 * JavaScript syntax is translated (named groups, `\u{...}`); the flags agents use (`i`,
 * `m`) keep their meaning. What needs backtracking by nature (backreferences,
 * lookaheads, lookbehinds) is refused with E_INVALID_ARGUMENT naming the field.
 */
export interface SafeRegex {
  /** True when the pattern matches anywhere in `text`. Linear in text length. */
  test(text: string): boolean;
}

export interface SafeRegexOptions {
  /** The argument the pattern came from, named in the refusal. */
  field: string;
  ignoreCase?: boolean;
  /** `^` and `$` also match at line ends (JavaScript's `m`). */
  multiline?: boolean;
  /** Match the pattern as plain text. */
  literal?: boolean;
}

// Only says which refusal message fits; it runs on the short pattern, never on input.
const backtrackingSyntax = /\(\?<?[=!]|\\[1-9]|\\k</;

export function compileSafeRegex(pattern: string, options: SafeRegexOptions): SafeRegex {
  const flags = (options.ignoreCase ? RE2JS.CASE_INSENSITIVE : 0) | (options.multiline ? RE2JS.MULTILINE : 0);
  try {
    const compiled = RE2JS.compile(options.literal ? RE2JS.quote(pattern) : RE2JS.translateRegExp(pattern), flags);
    // JavaScript's `m` takes \r, \u2028 and \u2029 for line ends too (a terminal's lines end in
    // \r\n, and redraws start with \r); RE2 only \n. Seen as \n, they keep JavaScript's meaning.
    return options.multiline ? { test: (text) => compiled.test(text.replace(/\r\n?|[\u2028\u2029]/g, '\n')) } : compiled;
  } catch (error) {
    const message = backtrackingSyntax.test(pattern)
      ? 'backreferences and lookarounds are not supported (patterns run on a linear-time engine, RE2 syntax)'
      : (error as Error).message.replace(/^error parsing regexp: /, '');
    throw new CodeBuddyError('E_INVALID_ARGUMENT', `${options.field}: invalid pattern: ${message}`, { field: options.field });
  }
}
