import { z } from 'zod';
import type { PolicyService } from '../ledger/policy-service.js';
import { presets, ruleSchema } from '../ledger/policy.js';
import { workspaceOperation, type Operation } from './operation.js';

// Rules are described once, on policy_set's input; the output only says they are objects.
const policyView = z.object({ workspace_id: z.string(), preset: z.enum(presets), rules: z.array(z.record(z.string(), z.unknown())), stored: z.boolean() });

const render = (out: z.infer<typeof policyView>) =>
  [`${out.preset}${out.stored ? '' : ' (default)'}`, ...out.rules.map((rule, index) => `${index + 1}. ${JSON.stringify(rule)}`)].join('\n');

export function policyOperations(policies: PolicyService): Operation[] {
  return [
    workspaceOperation({
      name: 'policy_get',
      title: 'Get policy',
      description: "The workspace's policy: what runs at once, needs approval, or is denied.",
      effect: 'read',
      idempotent: true,
      destructive: false,
      input: z.object({}),
      output: policyView,
      run: async (_input, workspace, context) => ({ workspace_id: workspace.id, ...policies.get(context.principal.tenantId, workspace.id) }),
      render,
    }),
    workspaceOperation({
      name: 'policy_set',
      title: 'Set policy',
      description: "Set the workspace's policy: a preset and rules (approver role).",
      effect: 'admin',
      idempotent: true,
      destructive: true,
      roles: ['approver', 'admin'],
      input: z.object({ preset: z.enum(presets), rules: z.array(ruleSchema).max(100).optional() }),
      output: policyView,
      async run(input, workspace, context) {
        policies.set(context.principal, workspace.id, { preset: input.preset, rules: input.rules ?? [] });
        return { workspace_id: workspace.id, ...policies.get(context.principal.tenantId, workspace.id) };
      },
      render,
    }),
  ];
}
