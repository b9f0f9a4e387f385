#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { App } from '../app.js';
import { roles, tenantIdSchema, userIdSchema, type Role } from '../auth/principal.js';
import { isCodeBuddyError } from '../core/errors.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

interface GlobalOptions {
  config?: string;
  dataDir?: string;
}

/**
 * The app over the data directory. It and each command's module are imported by the command
 * that runs (`--help` loads none of them): a process loads only what it serves.
 */
async function appFrom(options: GlobalOptions, overrides: Record<string, unknown> = {}): Promise<App> {
  const [{ loadConfig }, { createApp }] = await Promise.all([import('../config/load-config.js'), import('../app.js')]);
  const config = loadConfig({ ...(options.config ? { file: options.config } : {}), overrides: { dataDir: options.dataDir, ...overrides } });
  return createApp(config);
}

const program = new Command()
  .name('codebuddy')
  .description('A workspace server for AI coding agents: MCP over stdio and HTTP, every action recorded.')
  .version(version)
  .option('--config <file>', 'JSON config file (also CODEBUDDY_CONFIG)')
  .option('--data-dir <dir>', 'data directory (also CODEBUDDY_DATA_DIR)')
  .showHelpAfterError();

program
  .command('serve')
  .description('serve MCP over HTTP (default) or stdio')
  .option('--stdio', 'speak MCP on stdin/stdout instead of HTTP')
  .option('--workspace <path>', 'with --stdio: adopt this directory as the default workspace')
  .option('--host <host>', 'HTTP listen address (also CODEBUDDY_HOST)')
  .option('--port <port>', 'HTTP listen port (also CODEBUDDY_PORT)')
  .action(async (options: { stdio?: boolean; workspace?: string; host?: string; port?: string }) => {
    const app = await appFrom(program.opts<GlobalOptions>(), { host: options.host, port: options.port });
    const { serveHttpCommand, serveStdioCommand } = await import('./serve-command.js');
    if (options.stdio) await serveStdioCommand(app, options.workspace);
    else await serveHttpCommand(app);
  });

program
  .command('lsp')
  .description('serve LSP on stdio to an editor: the workspace\'s language servers, its pending agent actions (as the local approver)')
  .option('--workspace <path|id>', 'a directory to adopt, or a workspace id or name (default: the current directory)')
  .action(async (options: { workspace?: string }) => {
    const { lspStdioCommand } = await import('./lsp-command.js');
    await lspStdioCommand(await appFrom(program.opts<GlobalOptions>()), options.workspace);
  });

const token = program.command('token').description('API tokens');
token
  .command('create')
  .description('issue an API token and print it (shown once)')
  .requiredOption('--tenant <tenant>', 'tenant id')
  .requiredOption('--user <user>', 'user id')
  .addOption(new Option('--role <role>', 'role').choices(roles).default('agent'))
  .option('--label <label>', 'a note to recognise the token by')
  .action(async (options: { tenant: string; user: string; role: Role; label?: string }) => {
    const tenant = tenantIdSchema.safeParse(options.tenant);
    if (!tenant.success) throw new Error(`--tenant: ${tenant.error.issues[0]!.message}`);
    const user = userIdSchema.safeParse(options.user);
    if (!user.success) throw new Error(`--user: ${user.error.issues[0]!.message}`);
    const app = await appFrom(program.opts<GlobalOptions>());
    const created = app.tokens.create({ tenantId: tenant.data, userId: user.data, role: options.role, ...(options.label ? { label: options.label } : {}) });
    app.close();
    process.stdout.write(`${created.token}\n`);
  });

/** Prints what `use` answers from an app over the data directory, closed afterwards whatever happens. */
async function printFromApp(use: (app: App) => Promise<string>): Promise<void> {
  const app = await appFrom(program.opts<GlobalOptions>());
  try {
    process.stdout.write(`${await use(app)}\n`);
  } finally {
    app.close();
  }
}

token
  .command('list')
  .description('list API tokens: id, tenant, user, role, created, last used, revoked (never secrets)')
  .option('--tenant <tenant>', 'only this tenant')
  .action((options: { tenant?: string }) => printFromApp(async (app) => (await import('./token-command.js')).formatTokenList(app.tokens.list(options.tenant))));
token
  .command('revoke')
  .description('revoke an API token by id: refused from then on, its open sessions end')
  .argument('<id>', 'token id (tok_…), as token list shows it')
  .action((id: string) => printFromApp(async (app) => (await import('./token-command.js')).revokeToken(app, id)));

/** An operator command: one registry operation, run as an admin of --tenant, its text printed. */
function operatorCommand(parent: Command, name: string, description: string, operation: string, toArgs: (positional: string[], options: Record<string, unknown>) => Record<string, unknown>): Command {
  return parent
    .command(name)
    .description(description)
    .option('--tenant <tenant>', 'tenant', 'local')
    .action(async (...params: unknown[]) => {
      const command = params[params.length - 1] as Command;
      const options = command.opts<{ tenant: string } & Record<string, unknown>>();
      const app = await appFrom(program.opts<GlobalOptions>());
      try {
        const { runAsOperator } = await import('./operator-command.js');
        process.stdout.write(`${await runAsOperator(app, options.tenant, operation, toArgs(command.args, options))}\n`);
      } finally {
        app.close();
      }
    });
}

const actions = program.command('actions').description('actions held for approval');
operatorCommand(actions, 'list', 'held actions, newest first', 'action_list', (_args, options) => (options.status ? { status: options.status } : {})).option(
  '--status <state>',
  'proposed, approved, rejected, expired, applying, applied or failed',
);
operatorCommand(actions, 'show', 'one action, with its preview', 'action_get', ([id]) => ({ id })).argument('<id>');
operatorCommand(actions, 'approve', 'approve a held action and apply it', 'action_approve', ([id], options) => ({ id, ...(options.reason ? { reason: options.reason } : {}) }))
  .argument('<id>')
  .option('--reason <text>', 'why');
operatorCommand(actions, 'reject', 'reject a held action', 'action_reject', ([id], options) => ({ id, ...(options.reason ? { reason: options.reason } : {}) }))
  .argument('<id>')
  .option('--reason <text>', 'why');

const policy = program.command('policy').description("workspaces' policies");
operatorCommand(policy, 'show', "a workspace's policy", 'policy_get', ([workspace]) => ({ workspace })).argument('<workspace>', 'id or name');
operatorCommand(policy, 'set', "set a workspace's policy", 'policy_set', ([workspace, preset], options) => ({
  workspace,
  preset,
  ...(options.rules ? { rules: JSON.parse(options.rules as string) as unknown } : {}),
}))
  .argument('<workspace>', 'id or name')
  .argument('<preset>', 'trusted, review-writes, review-all or read-only')
  .option('--rules <json>', 'rules as a JSON array, e.g. \'[{"paths":[".env"],"decision":"deny"}]\'');

const audit = program.command('audit').description('the tamper-evident audit trail');
audit
  .command('verify')
  .description("check every tenant's hash chain; exits 1 at the first broken link")
  .option('--tenant <tenant>', 'only this tenant')
  .action(async (options: { tenant?: string }) => {
    const app = await appFrom(program.opts<GlobalOptions>());
    const { auditVerify } = await import('./audit-command.js');
    const { ok, lines } = auditVerify(app, options.tenant);
    app.close();
    process.stdout.write(`${lines.join('\n')}\n`);
    if (!ok) process.exitCode = 1;
  });
audit
  .command('export')
  .description('write audit events as JSON lines (stdout, or --out)')
  .option('--tenant <tenant>', 'only this tenant')
  .option('--since <time>', 'only events at or after this ISO time')
  .option('--out <file>', 'write to this file')
  .action(async (options: { tenant?: string; since?: string; out?: string }) => {
    const app = await appFrom(program.opts<GlobalOptions>());
    try {
      const { auditExport } = await import('./audit-command.js');
      const written = await auditExport(app, options);
      if (options.out) process.stderr.write(`wrote ${written} events to ${options.out}\n`);
    } finally {
      app.close();
    }
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`codebuddy: ${isCodeBuddyError(error) || error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
