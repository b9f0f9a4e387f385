/**
 * The generated TypeScript project the code-intelligence benchmark asks about: one module of
 * money helpers that every feature module imports and calls, so `formatMoney` has one
 * reference per import and per call across all the files; each feature also imports the
 * feature before it, so the project is one program, not a bag of files.
 */
export const FEATURE_COUNT = 320;

/** Calls of `formatMoney` in each feature module. */
const CALLS_PER_FEATURE = 2;

const money = `export interface Amount {
  cents: number;
  currency: string;
}

export function formatMoney(amount: Amount): string {
  const whole = Math.trunc(amount.cents / 100);
  const cents = String(Math.abs(amount.cents % 100)).padStart(2, '0');
  return \`\${whole}.\${cents} \${amount.currency}\`;
}

export function addAmounts(a: Amount, b: Amount): Amount {
  if (a.currency !== b.currency) throw new Error('currencies differ');
  return { cents: a.cents + b.cents, currency: a.currency };
}
`;

const name = (index: number) => `feature-${String(index).padStart(3, '0')}`;
const className = (index: number) => `Feature${index}`;

/**
 * A feature module. One that `formats` calls `formatMoney` twice (describe and receipt);
 * one that does not formats its total itself, so the symbol's users can be a chosen few.
 */
function feature(index: number, formats = true): string {
  const previous = index > 0 ? `import { ${className(index - 1)} } from './${name(index - 1)}';\n` : '';
  const base = index > 0 ? `\n  readonly before = new ${className(index - 1)}();\n` : '\n';
  const formatting = formats
    ? `  describe(): string {
    return \`${className(index)}: \${formatMoney(this.total())}\`;
  }

  receipt(): string[] {
    return this.lines.map((line) => formatMoney(line));
  }`
    : `  describe(): string {
    return \`${className(index)}: \${this.total().cents} cents\`;
  }`;
  return `import { addAmounts, ${formats ? 'formatMoney, ' : ''}type Amount } from './money';
${previous}
export class ${className(index)} {${base}
  private readonly lines: Amount[] = [];

  add(cents: number): this {
    this.lines.push({ cents, currency: 'EUR' });
    return this;
  }

  total(): Amount {
    return this.lines.reduce((sum, line) => addAmounts(sum, line), { cents: ${index}, currency: 'EUR' });
  }

${formatting}
}
`;
}

export interface TypescriptProject {
  files: Map<string, string>;
  /** Where `formatMoney` is declared: the position every contender is asked about (1-based). */
  target: { path: string; line: number; column: number; symbol: string };
  /** References to it, declaration included, as the compiler must find them. */
  expectedReferences: number;
}

/**
 * The project; `features` modules, of which the first `formatters` call `formatMoney` (all of
 * them by default). The refactoring benchmark asks for 499 features, 100 formatters: 500
 * source files, a symbol used in 100 of them besides its own.
 */
export function typescriptProject(options: { features?: number; formatters?: number } = {}): TypescriptProject {
  const features = options.features ?? FEATURE_COUNT;
  const formatters = Math.min(options.formatters ?? features, features);
  const files = new Map<string, string>();
  files.set('tsconfig.json', `${JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', strict: true, noEmit: true }, include: ['src'] }, null, 2)}\n`);
  files.set('src/money.ts', money);
  for (let i = 0; i < features; i++) files.set(`src/${name(i)}.ts`, feature(i, i < formatters));
  const line = money.split('\n').findIndex((text) => text.includes('function formatMoney')) + 1;
  const column = money.split('\n')[line - 1]!.indexOf('formatMoney') + 1;
  return {
    files,
    target: { path: 'src/money.ts', line, column, symbol: 'formatMoney' },
    expectedReferences: 1 + formatters * (1 + CALLS_PER_FEATURE),
  };
}
