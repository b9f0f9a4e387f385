import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { seededRandom } from '../test/helpers/seeded-random.js';

/**
 * The deterministic work tree every file benchmark runs against: 5,000 files in
 * 10 × 10 × 5 directories (10 files each), a mix of .ts, .md, .json and .txt. The plan
 * (names, kinds, sizes, which files hold the needle) is computed, not read back, so the
 * benchmarks know the exact expected counts without trusting the disk.
 */

export const FILE_COUNT = 5_000;
export const NEEDLE = 'needle_token_42';
export const READ_TARGET_BYTES = 4_096;

/** Bump when the generator changes so an old tree on disk is rebuilt. */
const GENERATOR_VERSION = 1;

type Kind = 'ts' | 'md' | 'json' | 'txt';

/** Extension by `index % 25`: 14 ts, 5 json, 4 txt, 2 md → 2,800 / 1,000 / 800 / 400 files. */
const KIND_CYCLE: readonly Kind[] = [
  'ts', 'ts', 'json', 'md', 'ts', 'txt', 'ts', 'json', 'ts', 'txt',
  'ts', 'json', 'ts', 'ts', 'txt', 'json', 'md', 'ts', 'ts', 'json',
  'txt', 'ts', 'ts', 'ts', 'ts',
];

const LEVEL1 = ['api', 'cli', 'config', 'core', 'docs', 'lib', 'models', 'plugins', 'services', 'utils'];
const LEVEL2 = ['auth', 'billing', 'cache', 'events', 'http', 'jobs', 'search', 'storage', 'users', 'views'];
const LEVEL3 = ['adapters', 'handlers', 'internal', 'shared', 'testing'];
const STEMS = ['account', 'buffer', 'client', 'codec', 'digest', 'filter', 'gateway', 'index', 'ledger', 'mapper', 'parser', 'queue', 'router', 'schema', 'session', 'token'];

const WORDS = (
  'the a request response handler server client cache entry value key index table row column query result error retry timeout ' +
  'connection stream buffer chunk token session user account tenant workspace file path directory module export import default ' +
  'returns when if each every only first last next previous before after while until because so that which from into with without ' +
  'record event audit action operation call page cursor limit offset count total size bytes lines text json schema field name type'
).split(' ');

export interface PlannedFile {
  /** Tree-relative, `/`-separated. */
  path: string;
  kind: Kind;
  /** Approximate size for ordinary files, exact for read targets. */
  bytes: number;
  needle: boolean;
  readTarget: boolean;
}

export interface TreePlan {
  files: PlannedFile[];
  /** Expected answers, derived from the plan. */
  mdFiles: number;
  needleFiles: number;
  readTargets: string[];
}

export function planTree(): TreePlan {
  const files: PlannedFile[] = [];
  let index = 0;
  for (const a of LEVEL1) {
    for (const b of LEVEL2) {
      for (const c of LEVEL3) {
        for (let k = 0; k < 10; k++, index++) {
          const kind = KIND_CYCLE[index % KIND_CYCLE.length]!;
          const random = seededRandom(index + 1);
          // 10 read targets, all .ts (index % 25 === 23 is a ts slot), exactly 4 KiB.
          const readTarget = index % 500 === 123;
          const needle = index % 100 === 37; // 50 files, one needle line each
          const stem = STEMS[Math.floor(random() * STEMS.length)]!;
          files.push({
            path: `${a}/${b}/${c}/${stem}_${String(k).padStart(2, '0')}.${kind}`,
            kind,
            bytes: readTarget ? READ_TARGET_BYTES : 1_024 + Math.floor(random() * 6_144),
            needle,
            readTarget,
          });
        }
      }
    }
  }
  return {
    files,
    mdFiles: files.filter((file) => file.kind === 'md').length,
    needleFiles: files.filter((file) => file.needle).length,
    readTargets: files.filter((file) => file.readTarget).map((file) => file.path),
  };
}

function sentence(random: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(WORDS[Math.floor(random() * WORDS.length)]!);
  const text = out.join(' ');
  return `${text[0]!.toUpperCase()}${text.slice(1)}.`;
}

function identifier(random: () => number): string {
  const first = WORDS[Math.floor(random() * WORDS.length)]!;
  const second = WORDS[Math.floor(random() * WORDS.length)]!;
  return `${first}${second[0]!.toUpperCase()}${second.slice(1)}`;
}

/** One chunk of plausible source or prose; chunks are appended until the size is reached. */
function chunk(kind: Kind, random: () => number, n: number): string[] {
  switch (kind) {
    case 'ts': {
      const name = identifier(random);
      return [
        `/** ${sentence(random, 8 + Math.floor(random() * 8))} */`,
        `export function ${name}${n}(input: string, limit = ${Math.floor(random() * 500)}): number {`,
        `  const ${identifier(random)} = input.length > limit ? input.slice(0, limit) : input;`,
        `  if (input.includes('${WORDS[Math.floor(random() * WORDS.length)]}')) return ${Math.floor(random() * 100)};`,
        `  return input.split(' ').length + ${n};`,
        '}',
        '',
      ];
    }
    case 'md':
      return [`## ${sentence(random, 3).slice(0, -1)} ${n}`, '', sentence(random, 12 + Math.floor(random() * 10)), sentence(random, 10), `- ${sentence(random, 6)}`, `- ${sentence(random, 5)}`, ''];
    case 'txt':
      return [sentence(random, 10 + Math.floor(random() * 12)), sentence(random, 8 + Math.floor(random() * 8)), ''];
    case 'json':
      return [`  "${identifier(random)}_${n}": { "enabled": ${random() < 0.5}, "limit": ${Math.floor(random() * 1000)}, "note": "${sentence(random, 6)}" },`];
  }
}

function needleLine(kind: Kind): string {
  switch (kind) {
    case 'ts':
      return `// TODO(${NEEDLE}): revisit this branch once the cache settles.`;
    case 'md':
      return `Note: ${NEEDLE} marks the section to revisit.`;
    case 'txt':
      return `Reminder ${NEEDLE} for the next review.`;
    case 'json':
      return `  "marker": "${NEEDLE}",`;
  }
}

/** The file's text; ASCII only, so characters are bytes. */
export function renderFile(file: PlannedFile, seed: number): string {
  const random = seededRandom(seed * 7919 + 17);
  const lines: string[] = file.kind === 'json' ? ['{'] : file.kind === 'md' ? [`# ${file.path}`, ''] : [];
  const closing = file.kind === 'json' ? ['  "version": 1', '}'] : [];
  // Leave room for the needle, the closing lines and (for exact-size files) a padding line.
  const budget = file.bytes - 160;
  let length = lines.join('\n').length;
  for (let n = 0; length < budget; n++) {
    const next = chunk(file.kind, random, n);
    lines.push(...next);
    length += next.join('\n').length + 1;
  }
  if (file.needle) lines.splice(Math.max(1, Math.floor(lines.length / 2)), 0, needleLine(file.kind));
  lines.push(...closing);
  let text = `${lines.join('\n')}\n`;
  if (file.readTarget) {
    // Pad with one comment line to the exact size: the read benchmark reads exactly 4 KiB.
    const missing = file.bytes - text.length;
    if (missing < 4) text = text.slice(0, file.bytes - 1) + '\n';
    else text += `//${'-'.repeat(missing - 3)}\n`;
  }
  return text;
}

function countFiles(dir: string): number {
  let count = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) count += countFiles(join(dir, entry.name));
    else if (entry.isFile()) count++;
  }
  return count;
}

/**
 * Builds the tree under `treeDir` unless one from this generator version with the
 * right file count is already there (a stamp file beside the tree records the version).
 */
export function ensureWorkTree(treeDir: string): { plan: TreePlan; reused: boolean } {
  const plan = planTree();
  const stampFile = `${treeDir}.json`;
  const stamp = existsSync(stampFile) ? (JSON.parse(readFileSync(stampFile, 'utf8')) as { version?: number; files?: number }) : undefined;
  if (stamp?.version === GENERATOR_VERSION && stamp.files === FILE_COUNT && existsSync(treeDir) && countFiles(treeDir) === FILE_COUNT) {
    return { plan, reused: true };
  }
  rmSync(treeDir, { recursive: true, force: true });
  plan.files.forEach((file, index) => {
    const absolute = join(treeDir, file.path);
    mkdirSync(dirname(absolute), { recursive: true });
    writeFileSync(absolute, renderFile(file, index));
  });
  const written = countFiles(treeDir);
  if (written !== FILE_COUNT) throw new Error(`work tree has ${written} files, expected ${FILE_COUNT}`);
  writeFileSync(stampFile, JSON.stringify({ version: GENERATOR_VERSION, files: FILE_COUNT }));
  return { plan, reused: false };
}
