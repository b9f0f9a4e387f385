import { userInfo } from 'node:os';
import type { App } from '../app.js';
import type { Principal } from '../auth/principal.js';

const LOCAL_TENANT = 'local';

/** On stdio the caller is whoever launched the process: the local OS user, as an agent. */
export function localPrincipal(): Principal {
  const name = userInfo().username.replace(/[^\w.@-]/g, '_') || 'local';
  return { tenantId: LOCAL_TENANT, userId: name, role: 'agent' };
}

/**
 * A long-running server must not die for every tenant because one background promise
 * rejected unobserved: log it loudly and keep serving.
 */
export function keepServingOnStrayRejections(app: App): void {
  process.on('unhandledRejection', (reason) => app.logger.error({ err: reason }, 'unhandled promise rejection'));
}

/**
 * What a serving process does besides answering: say when local commands have no sandbox, record that the previous process's
 * terminals are closed, match Docker workspaces to their containers again, settle proposals it left mid-way (an approval stands and is applied;
 * an interrupted apply is marked failed), and expire undecided ones on time even when nobody
 * asks about them.
 */
export async function startUpkeep(app: App): Promise<NodeJS.Timeout> {
  if (app.sandboxUnavailable !== undefined) {
    app.logger.warn(
      { reason: app.sandboxUnavailable },
      app.config.allowUnsandboxed ? 'no sandbox: local commands run as the server\'s own user (CODEBUDDY_ALLOW_UNSANDBOXED)' : 'no sandbox: commands in local workspaces are refused (Docker workspaces still run them)',
    );
  }
  app.terminals.closeLeftovers();
  const containers = await app.workspaces.reconcile();
  if (containers.ready + containers.stopped + containers.lost > 0) app.logger.info(containers, 'docker workspaces matched to their containers');
  await app.proposals.recoverAfterRestart();
  return setInterval(() => app.proposals.expireDue(), 30_000).unref();
}

/** How long a signalled server may take to close before it exits regardless (the HTTP face's own grace is shorter). */
const SHUTDOWN_DEADLINE_MS = 10_000;

/**
 * SIGINT/SIGTERM close the server and exit: 0 when it closed, 1 when closing failed or
 * overran the deadline (a service manager's stop must never hang on us). A second signal
 * exits at once.
 */
function onShutdown(app: App, close: () => Promise<void> | void): void {
  let closing = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (closing) process.exit(1);
    closing = true;
    app.logger.info({ signal }, 'codebuddy shutting down');
    setTimeout(() => {
      app.logger.error({ deadline_ms: SHUTDOWN_DEADLINE_MS }, 'shutdown overran its deadline; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    try {
      await close();
    } catch (error) {
      app.logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

export async function serveStdioCommand(app: App, workspacePath: string | undefined): Promise<void> {
  keepServingOnStrayRejections(app);
  await startUpkeep(app);
  const principal = localPrincipal();
  const workspace = workspacePath ? await app.workspaces.adoptLocal(principal, workspacePath) : undefined;
  // Each face is loaded by the command that serves it: a stdio session, started afresh by
  // its MCP client every time, never loads the HTTP stack (fastify, WebSocket faces).
  const { serveMcpStdio } = await import('../faces/mcp/stdio-face.js');
  const handle = serveMcpStdio(app, principal, workspace?.id);
  app.logger.info({ workspace: workspace?.name, root: workspace?.root }, 'codebuddy serving MCP on stdio');
  const close = async () => {
    await handle.close();
    app.close();
  };
  // The host closing our stdin is the normal way a stdio session ends.
  process.stdin.once('end', () => void close().then(() => process.exit(0)));
  onShutdown(app, close);
}

export async function serveHttpCommand(app: App): Promise<void> {
  keepServingOnStrayRejections(app);
  await startUpkeep(app);
  const { startHttpServer } = await import('../faces/http/http-server.js');
  const server = await startHttpServer(app, { host: app.config.host, port: app.config.port });
  app.logger.info({ url: server.url }, 'codebuddy listening');
  const lines = [`CodeBuddy is serving MCP at ${server.url}`];
  if (!app.tokens.hasAny(LOCAL_TENANT)) {
    const { token } = app.tokens.create({ tenantId: LOCAL_TENANT, userId: localPrincipal().userId, role: 'agent', label: 'first start' });
    lines.push(
      '',
      'An agent token for the local tenant (shown once; store it now):',
      `  ${token}`,
      '',
      'Claude Code:  claude mcp add --transport http codebuddy ' + server.url + ` --header "Authorization: Bearer ${token}"`,
    );
  }
  lines.push('', `More tokens:  node ${process.argv[1]} token create --tenant local --user NAME --role agent|approver|admin`, '');
  process.stdout.write(lines.join('\n'));
  onShutdown(app, async () => {
    await server.close();
    app.close();
  });
}
