import picomatch from 'picomatch';
import type { Clock } from '../core/clock.js';
import { CodeBuddyError } from '../core/errors.js';
import type { Principal } from '../auth/principal.js';
import { describePrincipal } from '../auth/principal.js';
import type { PolicyRepository } from '../store/policy-repository.js';
import { validateRules, type Policy, type Preset, type Rule } from './policy.js';

/** Whether an operation glob takes in an operation that runs a command. */
function bindsCommands(operation: string | undefined): boolean {
  return operation === undefined || ['exec', 'terminal_open', 'terminal_write'].some((name) => picomatch.isMatch(name, operation));
}

/** Each workspace's policy: stored when set, the configured default preset otherwise. */
export class PolicyService {
  constructor(
    private readonly repository: PolicyRepository,
    private readonly clock: Clock,
    private readonly defaultPreset: Preset,
  ) {}

  get(tenantId: string, workspaceId: string): Policy & { stored: boolean } {
    const row = this.repository.find(tenantId, workspaceId);
    return row ? { preset: row.preset as Preset, rules: JSON.parse(row.rules_json) as Rule[], stored: true } : { preset: this.defaultPreset, rules: [], stored: false };
  }

  /** Who may call this is the registry's business (approver or admin roles only). */
  set(principal: Principal, workspaceId: string, policy: Policy): void {
    const invalid = validateRules(policy.rules);
    if (invalid) throw new CodeBuddyError('E_INVALID_ARGUMENT', invalid, { field: invalid.split(':')[0] });
    this.repository.save({
      tenant_id: principal.tenantId,
      workspace_id: workspaceId,
      preset: policy.preset,
      rules_json: JSON.stringify(policy.rules),
      updated_by: describePrincipal(principal),
      updated_at: this.clock.now(),
    });
  }

  /**
   * Path globs the workspace's deny rules name, for a command's sandbox to mask, so a denied
   * path stays denied to commands too. A rule counts when it could bind what a command does:
   * no `command` of its own, an `operation` glob that takes in `exec` or the terminal tools (or
   * none), and an effect of writes or commands (or none). A rule that denies only
   * `file_delete`, say, masks nothing.
   */
  deniedPaths(tenantId: string, workspaceId: string): string[] {
    return this.get(tenantId, workspaceId).rules.flatMap((rule) =>
      rule.decision === 'deny' && rule.paths && rule.command === undefined && rule.effect !== 'admin' && bindsCommands(rule.operation) ? rule.paths : [],
    );
  }

}
