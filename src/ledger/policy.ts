import picomatch from 'picomatch';
import { z } from 'zod';
import type { Effect } from './ledger.js';

export const presets = ['trusted', 'review-writes', 'review-all', 'read-only'] as const;
export type Preset = (typeof presets)[number];
export type Decision = 'allow' | 'review' | 'deny';

export const ruleSchema = z.strictObject({
  operation: z.string().min(1).max(100).optional().describe('Glob over tool names, e.g. file_*'),
  effect: z.enum(['write', 'exec', 'admin']).optional(),
  paths: z.array(z.string().min(1).max(500)).min(1).max(50).optional().describe('Globs over workspace paths'),
  command: z.string().min(1).max(500).optional().describe('Regex over exec commands'),
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
  command?: string;
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

function matches(rule: Rule, subject: PolicySubject): boolean {
  if (rule.operation !== undefined && !picomatch.isMatch(subject.operation, rule.operation)) return false;
  if (rule.effect !== undefined && rule.effect !== subject.effect) return false;
  if (rule.paths !== undefined) {
    const globs = rule.paths.map((glob) => picomatch(glob, { dot: true, basename: !glob.includes('/') }));
    if (!subject.paths.some((path) => globs.some((glob) => glob(path)))) return false;
  }
  if (rule.command !== undefined && (subject.command === undefined || !new RegExp(rule.command).test(subject.command))) return false;
  return true;
}

/**
 * Reads are always allowed (and audited). Otherwise the strictest matching rule decides
 * (deny over review over allow), so no order of rules can let an `allow` undo a `deny`;
 * with no matching rule, the preset decides by effect. Admin operations are authorized by
 * role, never by a workspace policy.
 */
export function decide(policy: Policy, subject: PolicySubject): { decision: Decision; because: string } {
  if (subject.effect === 'read' || subject.effect === 'admin') return { decision: 'allow', because: `${subject.effect}s are not subject to policy` };
  let best: { decision: Decision; because: string } | undefined;
  policy.rules.forEach((rule, index) => {
    if (!matches(rule, subject)) return;
    if (!best || strictness[rule.decision] > strictness[best.decision]) best = { decision: rule.decision, because: `rule ${index + 1}` };
  });
  return best ?? { decision: presetDecision(policy.preset, subject.effect), because: `preset ${policy.preset}` };
}

/** Refuses a rule whose command pattern is not a valid regex before it is stored. */
export function validateRules(rules: Rule[]): string | undefined {
  for (const [index, rule] of rules.entries()) {
    if (rule.command === undefined) continue;
    try {
      new RegExp(rule.command);
    } catch (error) {
      return `rules.${index}.command: ${(error as Error).message}`;
    }
  }
  return undefined;
}
