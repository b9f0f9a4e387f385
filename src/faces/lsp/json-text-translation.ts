/**
 * URI translation on a JSON text, without parsing it into objects and serializing it again:
 * one pass that validates the text as exactly one JSON value (RFC 8259: a server is untrusted,
 * and what passes here reaches the editor as is) and rewrites the URIs in it by the same rules
 * as the object walk of uri-translation.ts. A large answer (961 references, 155 KB) costs a
 * fraction of parse + walk + stringify.
 */

export interface TranslationKeys {
  /** Keys whose string values are URIs. */
  uri: ReadonlySet<string>;
  /** Keys whose object's keys are URIs (`WorkspaceEdit.changes`). */
  uriMap: ReadonlySet<string>;
  /** Keys whose values are never rewritten (document text, ranges). */
  opaque: ReadonlySet<string>;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * How URIs are treated in a value, as small integers (the scanner allocates nothing per
 * value): inside a container, nothing (OPAQUE), keys (URI_MAP: the object's keys are URIs,
 * its values are NORMAL); and a string value that is a URI (URI_VALUE). A frame of the stack
 * is its mode, plus OBJECT for an object.
 */
const NORMAL = 0;
const OPAQUE = 1;
const URI_MAP = 2;
const URI_VALUE = 3;
const OBJECT = 4;

class Invalid extends Error {}

/** A non-negative JSON integer, as positions are. */
const UINT = '(?:0|[1-9][0-9]*)';
const POSITION = `\\{"line":${UINT},"character":${UINT}\\}`;
/** Most of a references answer: its ranges, matched whole (only ever valid JSON). */
const COMPACT_RANGE = new RegExp(`\\{"start":${POSITION},"end":${POSITION}\\}|${POSITION}`, 'y');

/** A string with nothing to unescape or check in it: no quote, backslash or control character. */
const PLAIN_STRING = '"[^"\\\\\\u0000-\\u001f]*"';
/**
 * A references or definition answer as servers write it — `[{"uri":"…","range":{…}},…]`,
 * compact, strings without escapes — matched whole by one native regex: most large answers
 * are this, and the general scanner costs four times as much on them.
 */
const COMPACT_LOCATIONS = new RegExp(`^\\[(?:\\{"uri":${PLAIN_STRING},"range":\\{"start":${POSITION},"end":${POSITION}\\}\\}(?:,(?!\\])|(?=\\])))*\\]$`);

/** A URI prefix swap: `from` itself or `from/…` becomes `to`, `to/…`. */
export interface RootSwap {
  from: string;
  to: string;
}

/**
 * The text with the URIs under `swap.from` moved under `swap.to`, or undefined when it is not
 * one JSON value (surrounding whitespace allowed).
 */
export function translateJsonText(text: string, keys: TranslationKeys, swap: RootSwap): string | undefined {
  if (keys.uri.has('uri') && keys.opaque.has('range') && COMPACT_LOCATIONS.test(text)) return swapLocationUris(text, swap);
  try {
    return new Scanner(text, keys, swap).run();
  } catch (error) {
    if (error instanceof Invalid) return undefined;
    throw error;
  }
}

/** Where a location names a URI at or under the root it was made for (servers have one root: a cache of one). */
let locationStarts: { root: string; pattern: RegExp } | undefined;

/**
 * The URIs of a text COMPACT_LOCATIONS matched: no string in it holds a quote, so `{"uri":"`
 * occurs only where a location starts, and the swap is one native replace (the new root's
 * `$` doubled: a replacement string reads `$&` as a pattern).
 */
function swapLocationUris(text: string, swap: RootSwap): string {
  if (locationStarts?.root !== swap.from) {
    locationStarts = { root: swap.from, pattern: new RegExp(`\\{"uri":"${swap.from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=[/"])`, 'g') };
  }
  return text.replace(locationStarts.pattern, `{"uri":${JSON.stringify(swap.to).slice(0, -1).replaceAll('$', '$$$$')}`);
}

class Scanner {
  private at = 0;
  private copied = 0;
  private readonly out: string[] = [];
  /** The key names that matter, by length: a key is compared in place, never copied out of the text. */
  private readonly names = new Map<number, [string, number][]>();
  /** `swap.to` as it is written inside a JSON string. */
  private readonly to: string;
  /** The text has no control character at all (compact JSON): strings need no check char by char. */
  private readonly plain: boolean;
  /** Where the next backslash at or after the current string is (Infinity: none). */
  private backslash = -1;

  constructor(
    private readonly text: string,
    keys: TranslationKeys,
    private readonly swap: RootSwap,
  ) {
    const add = (set: ReadonlySet<string>, mode: number) => {
      for (const name of set) this.names.set(name.length, [...(this.names.get(name.length) ?? []), [name, mode]]);
    };
    add(keys.opaque, OPAQUE);
    add(keys.uri, URI_VALUE);
    add(keys.uriMap, URI_MAP);
    this.to = JSON.stringify(swap.to).slice(1, -1);
    // eslint-disable-next-line no-control-regex
    this.plain = !/[\u0000-\u001f]/.test(text);
  }

  run(): string {
    const { text } = this;
    const stack: number[] = [];
    // How the value about to be read is treated.
    let mode = NORMAL;
    for (;;) {
      this.skipSpace();
      // A value.
      const c = text.charCodeAt(this.at);
      if (c === 0x7b && mode === OPAQUE && this.compactRange()) {
        // A range or position as servers write it: checked by one native match, not token by token.
      } else if (c === 0x7b || c === 0x5b) {
        this.at++;
        const object = c === 0x7b;
        // Only an object's keys are URIs under `changes`; an array there is walked as any other.
        const frame = object ? OBJECT | (mode === URI_VALUE ? NORMAL : mode) : mode === OPAQUE ? OPAQUE : NORMAL;
        stack.push(frame);
        this.skipSpace();
        if (text.charCodeAt(this.at) === (object ? 0x7d : 0x5d)) {
          this.at++;
          stack.pop();
        } else {
          mode = object ? this.key(frame) : frame;
          continue;
        }
      } else if (c === QUOTE) {
        const start = this.at;
        const escaped = this.string();
        if (mode === URI_VALUE) this.rewrite(start, this.at, escaped);
      } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) this.number();
      else if (!this.literal('true') && !this.literal('false') && !this.literal('null')) throw new Invalid();
      // After a value: the next member or element, or the end of containers.
      for (;;) {
        this.skipSpace();
        if (stack.length === 0) {
          if (this.at !== text.length) throw new Invalid();
          return this.finish();
        }
        const frame = stack[stack.length - 1]!;
        const object = (frame & OBJECT) !== 0;
        const next = text.charCodeAt(this.at++);
        if (next === 0x2c) {
          if (object) {
            this.skipSpace();
            mode = this.key(frame);
          } else mode = frame;
          break;
        }
        if (next !== (object ? 0x7d : 0x5d)) throw new Invalid();
        stack.pop();
      }
    }
  }

  /** Skips a Range or Position written compactly (`{"start":{"line":1,"character":2},…}`) at this point, if that is what is here. */
  private compactRange(): boolean {
    COMPACT_RANGE.lastIndex = this.at;
    if (!COMPACT_RANGE.test(this.text)) return false;
    this.at = COMPACT_RANGE.lastIndex;
    return true;
  }

  /** A member's key and colon, in an object `frame`: how its value is treated. */
  private key(frame: number): number {
    if (this.text.charCodeAt(this.at) !== QUOTE) throw new Invalid();
    const start = this.at;
    const escaped = this.string();
    const end = this.at;
    this.skipSpace();
    if (this.text.charCodeAt(this.at++) !== 0x3a) throw new Invalid();
    const mode = frame & ~OBJECT;
    // Inside an opaque value the names do not matter (most keys of a references answer: ranges).
    if (mode === OPAQUE) return OPAQUE;
    if (mode === URI_MAP) this.rewrite(start, end, escaped);
    if (escaped) {
      const name = JSON.parse(this.text.slice(start, end)) as string;
      return this.names.get(name.length)?.find(([candidate]) => candidate === name)?.[1] ?? NORMAL;
    }
    for (const [name, named] of this.names.get(end - start - 2) ?? []) if (this.text.startsWith(name, start + 1)) return named;
    return NORMAL;
  }

  /** Skips a string (at its opening quote); true when it holds escapes. */
  private string(): boolean {
    const { text } = this;
    let i = this.at + 1;
    if (this.plain) {
      // No control character anywhere and no backslash before the closing quote: found natively, not char by char.
      const close = text.indexOf('"', i);
      if (close === -1) throw new Invalid();
      if (this.backslash < i) {
        const next = text.indexOf('\\', i);
        this.backslash = next === -1 ? Infinity : next;
      }
      if (this.backslash > close) {
        this.at = close + 1;
        return false;
      }
    }
    let escaped = false;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        escaped = true;
        const e = text.charCodeAt(i + 1);
        if (e === 0x75) {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new Invalid();
          i += 6;
          continue;
        }
        // " \ / b f n r t
        if (e !== QUOTE && e !== BACKSLASH && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) throw new Invalid();
        i += 2;
        continue;
      }
      // Control characters (and the end of the text: NaN) are not allowed in a string.
      if (!(c >= 0x20)) throw new Invalid();
      i++;
    }
    this.at = i + 1;
    return escaped;
  }

  /** A string (`start` to `end`, quotes included) that is a URI: moved to the new root when under the old one. */
  private rewrite(start: number, end: number, escaped: boolean): void {
    const { text, swap } = this;
    if (escaped) {
      // Rare (a server escaping slashes): decoded, swapped, written again.
      const value = JSON.parse(text.slice(start, end)) as string;
      const rest = value === swap.from ? '' : value.startsWith(`${swap.from}/`) ? value.slice(swap.from.length) : undefined;
      if (rest === undefined) return;
      this.out.push(text.slice(this.copied, start), JSON.stringify(swap.to + rest));
      this.copied = end;
      return;
    }
    const after = start + 1 + swap.from.length;
    if (!text.startsWith(swap.from, start + 1) || (text.charCodeAt(after) !== 0x2f && after !== end - 1)) return;
    this.out.push(text.slice(this.copied, start + 1), this.to);
    this.copied = after;
  }

  private number(): void {
    const { text } = this;
    let i = this.at;
    if (text.charCodeAt(i) === 0x2d) i++;
    const leadingZero = text.charCodeAt(i) === 0x30;
    const end = this.digits(i);
    if (end - i > 1 && leadingZero) throw new Invalid();
    i = end;
    if (text.charCodeAt(i) === 0x2e) i = this.digits(i + 1);
    if ((text.charCodeAt(i) | 0x20) === 0x65) {
      i++;
      if (text.charCodeAt(i) === 0x2b || text.charCodeAt(i) === 0x2d) i++;
      i = this.digits(i);
    }
    this.at = i;
  }

  /** Where a run of at least one digit starting at `from` ends. */
  private digits(from: number): number {
    let i = from;
    while (this.text.charCodeAt(i) >= 0x30 && this.text.charCodeAt(i) <= 0x39) i++;
    if (i === from) throw new Invalid();
    return i;
  }

  private literal(word: string): boolean {
    if (!this.text.startsWith(word, this.at)) return false;
    this.at += word.length;
    return true;
  }

  private skipSpace(): void {
    const { text } = this;
    let c = text.charCodeAt(this.at);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++this.at);
  }

  private finish(): string {
    if (this.out.length === 0) return this.text;
    this.out.push(this.text.slice(this.copied));
    return this.out.join('');
  }
}
