/**
 * The simple commands a shell line (or an argv) would run, for policy `command` rules: a
 * rule denying `^rm ` must also see the `rm` in `true; rm x`, `sh -c "rm x"`,
 * `["sh","-c","rm x"]`, `env A=1 nice rm x` or `find . -exec rm {} +`.
 *
 * This is a careful approximation of POSIX sh (quotes, escapes, `; && || | & ( )`,
 * newlines, `$( )` and backticks, redirections, here-documents), not a shell. Whatever it
 * cannot know statically (a variable, substitution, glob or brace in command position,
 * `eval`, a shell reading its script from a file or its input) is reported as `unchecked`, and the policy
 * then treats the line as matching every deny and review command rule.
 */
export interface ShellBreakdown {
  /** Each simple command, words unquoted and joined by spaces; wrappers and nested shells unwrapped (each level listed). */
  commands: string[];
  /** Why the line cannot be checked statically, when it cannot. */
  unchecked?: string;
}

interface Word {
  text: string;
  /** Holds an expansion (`$x`, `$(...)`, backticks): its value is only known when it runs. */
  dynamic: boolean;
  /** Holds an unquoted glob or brace character: a pattern the shell may expand into other words. */
  pattern?: boolean;
}

/** `[` is the test command, not a pattern, even unquoted. */
const expands = (word: Word) => word.dynamic || (word.pattern === true && word.text !== '[');

interface Sink {
  simple: Word[][];
  reasons: string[];
}

const MAX_DEPTH = 8;
/** Substitutions inside substitutions: each level is a recursive call, so the stack bounds it. */
const MAX_NESTING = 32;
const MAX_COMMANDS = 2000;

const shells = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'yash', 'posh']);
// `time` is not here: as a wrapper (below) its options are skipped too (`time -p rm x`).
const keywords = new Set(['if', 'then', 'elif', 'else', 'fi', 'do', 'done', 'while', 'until', '!', '{', '}', 'esac', '[[', ']]', 'coproc']);
const nonCommands = new Set(['for', 'case', 'select', 'function']);

/**
 * Programs that run the rest of their arguments as a command: options that take a value
 * (so the value is not mistaken for the command), and positional arguments before it.
 */
const wrappers: Record<string, { valued: string[]; positional: number; assignments?: boolean }> = {
  env: { valued: ['-u', '--unset', '-C', '--chdir'], positional: 0, assignments: true },
  nice: { valued: ['-n', '--adjustment'], positional: 0 },
  nohup: { valued: [], positional: 0 },
  setsid: { valued: [], positional: 0 },
  time: { valued: ['-f', '--format', '-o', '--output'], positional: 0 },
  command: { valued: [], positional: 0 },
  builtin: { valued: [], positional: 0 },
  exec: { valued: ['-a'], positional: 0 },
  sudo: { valued: ['-u', '--user', '-g', '--group', '-C', '-D', '-h', '-p', '-r', '-t', '-U'], positional: 0 },
  doas: { valued: ['-u', '-C'], positional: 0 },
  timeout: { valued: ['-s', '--signal', '-k', '--kill-after'], positional: 1 },
  stdbuf: { valued: ['-i', '-o', '-e'], positional: 0 },
  ionice: { valued: ['-c', '--class', '-n', '--classdata', '-p', '-P', '-u'], positional: 0 },
  chrt: { valued: [], positional: 1 },
  taskset: { valued: [], positional: 1 },
  flock: { valued: ['-w', '--timeout', '-E', '--conflict-exit-code'], positional: 1 },
  chroot: { valued: ['--userspec', '--groups'], positional: 1 },
  xargs: { valued: ['-I', '-i', '-n', '-P', '-L', '-l', '-s', '-d', '-E', '-e', '-a', '--max-args', '--max-procs', '--delimiter', '--arg-file', '--replace'], positional: 0 },
  unbuffer: { valued: [], positional: 0 },
  busybox: { valued: [], positional: 0 },
  strace: { valued: ['-e', '-o', '-p', '-s', '-u'], positional: 0 },
  watch: { valued: ['-n', '--interval', '-d'], positional: 0 },
};

const basename = (path: string) => path.slice(path.lastIndexOf('/') + 1);

export function simpleCommands(command: string | readonly string[]): ShellBreakdown {
  const commands: string[] = [];
  const reasons: string[] = [];
  const words = (list: readonly string[]): Word[] => list.map((text) => ({ text, dynamic: false }));
  if (typeof command === 'string') breakDownScript(command, 0, commands, reasons);
  else unwrap(words(command), 0, commands, reasons);
  return reasons.length > 0 ? { commands, unchecked: reasons[0]! } : { commands };
}

function breakDownScript(script: string, depth: number, commands: string[], reasons: string[]): void {
  if (depth > MAX_DEPTH) {
    reasons.push('shells nested too deep');
    return;
  }
  const sink: Sink = { simple: [], reasons };
  try {
    new Scanner(script, sink, 0).script(null);
  } catch (error) {
    if (!(error instanceof TooDeep)) throw error;
    reasons.push('substitutions nested too deep');
  }
  for (const simple of sink.simple) unwrap(simple, depth, commands, reasons);
}

/** Records one simple command and, where it runs another command, that one too. */
function unwrap(words: Word[], depth: number, commands: string[], reasons: string[]): void {
  if (commands.length >= MAX_COMMANDS) {
    if (!reasons.includes('too many commands')) reasons.push('too many commands');
    return;
  }
  let start = 0;
  // Assignments before a command and reserved words do not run anything themselves.
  while (start < words.length && (keywords.has(words[start]!.text) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[start]!.text))) start++;
  const rest = words.slice(start);
  if (rest.length === 0 || nonCommands.has(rest[0]!.text)) return;
  const head = rest[0]!;
  if (expands(head)) {
    reasons.push(head.dynamic ? 'a variable or substitution in command position' : 'a glob or brace pattern in command position');
    return;
  }
  const texts = rest.map((word) => word.text);
  commands.push(texts.join(' '));
  const name = basename(head.text);
  if (name !== head.text) commands.push([name, ...texts.slice(1)].join(' '));

  if (name === 'eval' || name === 'source' || name === '.') {
    reasons.push(`${name} runs text that is only known when it runs`);
    return;
  }
  if (shells.has(name)) return shellArguments(rest.slice(1), depth, commands, reasons);
  if (name === 'trap' || name === 'su' || name === 'runuser') return scriptArgument(name, rest.slice(1), depth, commands, reasons);
  const findExec = rest.findIndex((word) => ['-exec', '-execdir', '-ok', '-okdir'].includes(word.text));
  if (name === 'find' && findExec !== -1) {
    const end = rest.findIndex((word, index) => index > findExec && (word.text === ';' || word.text === '+'));
    unwrap(rest.slice(findExec + 1, end === -1 ? undefined : end), depth + 1, commands, reasons);
    return;
  }
  const wrapper = wrappers[name];
  if (!wrapper) return;
  let index = 1;
  let positional = wrapper.positional;
  while (index < rest.length) {
    const text = rest[index]!.text;
    if (text === '--') {
      index++;
      break;
    }
    if (text.startsWith('-') && text.length > 1) {
      if ((name === 'env' && (text === '-S' || text.startsWith('--split-string'))) || (name === 'flock' && (text === '-c' || text === '--command'))) {
        reasons.push(`${name} ${text} runs a command line given as one argument`);
        return;
      }
      index += wrapper.valued.includes(text) ? 2 : 1;
      continue;
    }
    if (wrapper.assignments && /^[A-Za-z_][A-Za-z0-9_]*=/.test(text)) {
      index++;
      continue;
    }
    if (positional > 0) {
      positional--;
      index++;
      continue;
    }
    break;
  }
  const inner = rest.slice(index);
  if (inner.length === 0) return;
  // watch runs its arguments joined as a shell line.
  if (name === 'watch') return breakDownScript(inner.map((word) => word.text).join(' '), depth + 1, commands, reasons);
  unwrap(inner, depth + 1, commands, reasons);
}

/** `sh -c SCRIPT`: the script is a shell line of its own; a shell without `-c` runs a file or its input. */
function shellArguments(args: Word[], depth: number, commands: string[], reasons: string[]): void {
  let hasC = false;
  let index = 0;
  for (; index < args.length; index++) {
    const text = args[index]!.text;
    if (text === '--' || !/^[-+]/.test(text) || text === '-' || text === '+') break;
    if (/^-[A-Za-z]*c[A-Za-z]*$/.test(text)) hasC = true;
    if (['-o', '+o', '-O', '+O', '--rcfile', '--init-file'].includes(text)) index++;
  }
  if (args[index]?.text === '--') index++;
  const script = args[index];
  if (!hasC || script === undefined) {
    reasons.push('a shell that reads its commands from a file or its input');
    return;
  }
  if (expands(script)) {
    reasons.push('a shell script given by a variable or substitution');
    return;
  }
  breakDownScript(script.text, depth + 1, commands, reasons);
}

/**
 * Programs that run one argument as a shell line: `trap LINE SIGNALS` (its first argument that
 * is not an option), `su -c LINE` / `runuser -c LINE` (the value of -c, --command).
 */
function scriptArgument(name: string, args: Word[], depth: number, commands: string[], reasons: string[]): void {
  const at = name === 'trap' ? args.findIndex((word) => !word.text.startsWith('-')) : args.findIndex((word) => word.text === '-c' || word.text === '--command') + 1;
  const script = at > 0 || (name === 'trap' && at === 0) ? args[at] : undefined;
  if (script === undefined) {
    // `su` without -c starts a login shell reading its input; `trap` alone only lists traps.
    if (name !== 'trap') reasons.push(`${name} without -c runs a shell that reads its input`);
    return;
  }
  if (expands(script)) {
    reasons.push(`${name} runs a line given by a variable or substitution`);
    return;
  }
  breakDownScript(script.text, depth + 1, commands, reasons);
}

class TooDeep extends Error {}

/** A single pass over a shell line, collecting simple commands into the sink. */
class Scanner {
  private index = 0;
  private words: Word[] = [];
  private word: Word | undefined;
  /** The next word is a redirection's target (a file name, or a here-document's delimiter), not an argument. */
  private redirectTarget: 'file' | 'heredoc' | 'heredoc-strip' | undefined;
  private heredocs: { delimiter: string; strip: boolean }[] = [];

  constructor(
    private readonly source: string,
    private readonly sink: Sink,
    private readonly nesting: number,
  ) {
    if (nesting > MAX_NESTING) throw new TooDeep();
  }

  /** Scans until the end, or until `closer` (the end of a `$( )` or backtick substitution); returns past it. */
  script(closer: ')' | '`' | null): number {
    const src = this.source;
    let parens = 0;
    while (this.index < src.length) {
      const c = src[this.index]!;
      if (closer === '`' && c === '`') {
        this.endCommand();
        return ++this.index;
      }
      if (c === ')' && closer === ')' && parens === 0) {
        this.endCommand();
        return ++this.index;
      }
      if (c === ' ' || c === '\t' || c === '\r') {
        this.endWord();
        this.index++;
      } else if (c === '\n') {
        this.endCommand();
        this.index++;
        this.skipHeredocBodies();
      } else if (c === ';' || c === '|' || c === '(' || c === ')') {
        if (c === '(') parens++;
        if (c === ')') parens = Math.max(0, parens - 1);
        this.endCommand();
        this.index++;
      } else if (c === '&') {
        if (src[this.index + 1] === '>') this.redirection();
        else {
          this.endCommand();
          this.index++;
        }
      } else if (c === '<' || c === '>') {
        this.redirection();
      } else if (c === '#' && this.word === undefined) {
        while (this.index < src.length && src[this.index] !== '\n') this.index++;
      } else if (c === "'") {
        const end = src.indexOf("'", this.index + 1);
        this.append(src.slice(this.index + 1, end === -1 ? undefined : end), false);
        this.index = end === -1 ? src.length : end + 1;
      } else if (c === '"') {
        this.doubleQuoted();
      } else if (c === '\\') {
        if (src[this.index + 1] !== '\n') this.append(src[this.index + 1] ?? '', false);
        this.index += 2;
      } else if (c === '$') {
        this.dollar();
      } else if (c === '`') {
        this.substitution('`');
      } else {
        // Unquoted glob and brace characters expand when the line runs (`/bin/r?`, `{rm,x}`).
        this.append(c, false);
        if ('*?[{'.includes(c)) this.word!.pattern = true;
        this.index++;
      }
    }
    this.endCommand();
    return this.index;
  }

  private doubleQuoted(): void {
    const src = this.source;
    this.append('', false);
    this.index++;
    while (this.index < src.length && src[this.index] !== '"') {
      const c = src[this.index]!;
      if (c === '\\' && '$`"\\\n'.includes(src[this.index + 1] ?? '')) {
        if (src[this.index + 1] !== '\n') this.append(src[this.index + 1]!, false);
        this.index += 2;
      } else if (c === '$') this.dollar();
      else if (c === '`') this.substitution('`');
      else {
        this.append(c, false);
        this.index++;
      }
    }
    this.index++;
  }

  private dollar(): void {
    const src = this.source;
    const next = src[this.index + 1];
    if (next === '(') {
      this.index++;
      this.substitution(')');
    } else if (next === "'") {
      // ANSI-C quoting: escapes (\x72) can spell any name, so its value counts as dynamic.
      let end = this.index + 2;
      while (end < src.length && src[end] !== "'") end += src[end] === '\\' ? 2 : 1;
      this.append(src.slice(this.index + 2, end), true);
      this.index = end + 1;
    } else if (next === '{') {
      const end = src.indexOf('}', this.index);
      this.append(src.slice(this.index, end === -1 ? undefined : end + 1), true);
      this.index = end === -1 ? src.length : end + 1;
    } else if (next !== undefined && /[A-Za-z0-9_@*#?$!-]/.test(next)) {
      let end = this.index + 2;
      if (/[A-Za-z_]/.test(next)) while (end < src.length && /[A-Za-z0-9_]/.test(src[end]!)) end++;
      this.append(src.slice(this.index, end), true);
      this.index = end;
    } else {
      this.append('$', false);
      this.index++;
    }
  }

  /**
   * `$( )` or backticks: the inner commands are judged like the others; the word's value is
   * only known at run time (in command position, that makes the line unchecked).
   */
  private substitution(closer: ')' | '`'): void {
    this.append('$(…)', true);
    const inner = new Scanner(this.source, this.sink, this.nesting + 1);
    inner.index = this.index + 1;
    this.index = inner.script(closer);
  }

  private redirection(): void {
    const src = this.source;
    // A word of digits right before the operator is a file descriptor (2>&1), not an argument.
    if (this.word && /^\d+$/.test(this.word.text) && !this.word.dynamic) this.word = undefined;
    else this.endWord();
    let operator = '';
    while (this.index < src.length && '<>&|-'.includes(src[this.index]!) && operator.length < 3) {
      if (src[this.index] === '-' && operator !== '<<') break;
      operator += src[this.index++];
    }
    if (src[this.index] === '(' && (operator === '<' || operator === '>')) {
      // Process substitution: its commands run and are judged like the others.
      const inner = new Scanner(src, this.sink, this.nesting + 1);
      inner.index = this.index + 1;
      this.index = inner.script(')');
      return;
    }
    if (operator.endsWith('&') && /[\d-]/.test(src[this.index] ?? '')) {
      while (this.index < src.length && /[\d-]/.test(src[this.index]!)) this.index++;
      return;
    }
    this.redirectTarget = operator === '<<' ? 'heredoc' : operator === '<<-' ? 'heredoc-strip' : 'file';
  }

  private skipHeredocBodies(): void {
    const src = this.source;
    for (const { delimiter, strip } of this.heredocs.splice(0)) {
      while (this.index < src.length) {
        const end = src.indexOf('\n', this.index);
        const line = src.slice(this.index, end === -1 ? undefined : end);
        this.index = end === -1 ? src.length : end + 1;
        if ((strip ? line.replace(/^\t+/, '') : line) === delimiter) break;
      }
    }
  }

  private append(text: string, dynamic: boolean): void {
    if (!this.word) this.word = { text: '', dynamic: false };
    this.word.text += text;
    this.word.dynamic ||= dynamic;
  }

  private endWord(): void {
    const word = this.word;
    this.word = undefined;
    if (!word) return;
    const target = this.redirectTarget;
    this.redirectTarget = undefined;
    if (target === 'heredoc' || target === 'heredoc-strip') this.heredocs.push({ delimiter: word.text, strip: target === 'heredoc-strip' });
    else if (target === undefined) this.words.push(word);
  }

  private endCommand(): void {
    this.endWord();
    if (this.words.length > 0) this.sink.simple.push(this.words);
    this.words = [];
  }
}
