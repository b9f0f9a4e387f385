import picomatch from 'picomatch';
import { pathGlob } from '../core/path-glob.js';
import { z } from 'zod';
import { compileSafeRegex, type SafeRegex } from '../core/safe-regex.js';
import type { Effect } from './ledger.js';
import { simpleCommands, type ShellBreakdown } from './shell-commands.js';

export const presets = ['trusted', 'review-writes', 'review-all', 'read-only'] as const;
export type Preset = (typeof presets)[number];
export type Decision = 'allow' | 'review' | 'deny';

export const ruleSchema = z.strictObject({
  operation: z.string().min(1).max(100).optional().describe('Glob over tool names, e.g. file_*'),
  effect: z.enum(['write', 'exec', 'admin']).optional(),
  paths: z.array(z.string().min(1).max(500)).min(1).max(50).optional().describe('Globs over workspace paths'),
  // A convenience, not a boundary: a command can produce any file effect in ways no pattern
  // over its text foresees (an interpreter, a script it wrote). What binds file effects are
  // path rules, which the sandbox enforces on commands too. Command rules see the line as
  // given and every simple command in it (shell-commands.ts).
  command: z.string().min(1).max(500).optional().describe('Regex (RE2) over exec commands'),
  decision: z.enum(['allow', 'review', 'deny']),
});
export type Rule = z.infer<typeof ruleSchema>;

export interface Policy {
  preset: Preset;
  rules: Rule[];
}

/** What a call is, as far as a policy cares. */
export interface PolicySubject {
  operation: string;
  effect: Effect;
  /** Workspace-relative paths the call would touch. */
  paths: string[];
  /**
   * False when `paths` could not list everything the call touches (a directory too large
   * to walk): every deny and review rule with paths then applies, and no allow rule does.
   */
  pathsComplete?: boolean;
  /** The command line as given: shown, and matched by command rules. */
  command?: string;
  /** A shell line or argv the call runs: its simple commands are matched too (shell-commands.ts). */
  script?: string | readonly string[];
}

const strictness: Record<Decision, number> = { allow: 0, review: 1, deny: 2 };

function presetDecision(preset: Preset, effect: Effect): Decision {
  switch (preset) {
    case 'trusted':
      return 'allow';
    case 'review-writes':
      return effect === 'write' ? 'review' : 'allow';
    case 'review-all':
      return 'review';
    case 'read-only':
      return 'deny';
  }
}

/** Compiled command patterns, shared by every decision: a policy is read on every call. */
const compiled = new Map<string, SafeRegex>();
function commandPattern(source: string, field: string): SafeRegex {
  let pattern = compiled.get(source);
  if (!pattern) {
    pattern = compileSafeRegex(source, { field });
    if (compiled.size >= 1000) compiled.clear();
    compiled.set(source, pattern);
  }
  return pattern;
}

interface Judged {
  subject: PolicySubject;
  /** The script broken down, once, when a rule has a command. */
  breakdown?: ShellBreakdown;
}

/** Why a rule matched when it matched by caution rather than by content. */
type Match = false | { caution?: string };

function matches(rule: Rule, index: number, judged: Judged): Match {
  const { subject } = judged;
  if (rule.operation !== undefined && !picomatch.isMatch(subject.operation, rule.operation)) return false;
  if (rule.effect !== undefined && rule.effect !== subject.effect) return false;
  const strict = rule.decision !== 'allow';
  let caution: string | undefined;
  if (rule.paths !== undefined) {
    const globs = rule.paths.map(pathGlob);
    const hit = (path: string) => globs.some((glob) => glob(path));
    if (subject.pathsComplete === false) {
      // What was not listed may match: only a stricter rule may assume it does.
      if (!strict) return false;
      if (!subject.paths.some(hit)) caution = 'the call touches more paths than can be listed, so every path rule that could deny or hold it applies';
    } else if (strict ? !subject.paths.some(hit) : subject.paths.length === 0 || !subject.paths.every(hit)) {
      // deny and review bind on any path touched; allow covers a call only when every path is inside it.
      return false;
    }
  }
  if (rule.command !== undefined) {
    if (subject.command === undefined) return false;
    const pattern = commandPattern(rule.command, `rules.${index}.command`);
    judged.breakdown ??= subject.script === undefined ? { commands: [] } : simpleCommands(subject.script);
    const { commands, unchecked } = judged.breakdown;
    if (!strict) {
      // An allow covers a line only when every command in it is one it allows.
      if (unchecked !== undefined || !(commands.length === 0 ? pattern.test(subject.command) : commands.every((command) => pattern.test(command)))) return false;
    } else if (!pattern.test(subject.command) && !commands.some((command) => pattern.test(command))) {
      if (unchecked === undefined) return false;
      caution = `the command holds ${unchecked}, which cannot be checked against the workspace's command rules; send a plain command`;
    }
  }
  return caution === undefined ? {} : { caution };
}

/**
 * Reads are always allowed (and audited). Otherwise the strictest matching rule decides
 * (deny over review over allow), so no order of rules can let an `allow` undo a `deny`;
 * with no matching rule, the preset decides by effect. Admin operations are authorized by
 * role, never by a workspace policy.
 */
/** Whether any rule looks at paths: when none does, a call's paths need not be listed (a subtree walk spared). */
export function judgesPaths(policy: Policy): boolean {
  return policy.rules.some((rule) => rule.paths !== undefined);
}

export function decide(policy: Policy, subject: PolicySubject): { decision: Decision; because: string } {
  if (subject.effect === 'read' || subject.effect === 'admin') return { decision: 'allow', because: `${subject.effect}s are not subject to policy` };
  let best: { decision: Decision; because: string } | undefined;
  const judged: Judged = { subject };
  policy.rules.forEach((rule, index) => {
    const match = matches(rule, index, judged);
    if (match === false) return;
    const because = match.caution ? `rule ${index + 1}: ${match.caution}` : `rule ${index + 1}`;
    if (!best || strictness[rule.decision] > strictness[best.decision]) best = { decision: rule.decision, because };
  });
  return best ?? { decision: presetDecision(policy.preset, subject.effect), because: `preset ${policy.preset}` };
}

/**
 * Refuses, before it is stored, a rule whose command pattern the linear-time engine
 * cannot compile (backreferences, lookarounds, bad syntax): it could never be applied.
 */
export function validateRules(rules: Rule[]): string | undefined {
  for (const [index, rule] of rules.entries()) {
    if (rule.command === undefined) continue;
    try {
      compileSafeRegex(rule.command, { field: `rules.${index}.command` });
    } catch (error) {
      return (error as Error).message;
    }
  }
  return undefined;
}
