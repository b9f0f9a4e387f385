import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFixture } from '../helpers/fixtures.js';
import { connectModernHttp, type McpClient, type ToolAnswer } from '../helpers/mcp-clients.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/*
 * A Docker workspace's language server under attack from its own workspace, and its container
 * going away under it: typescript-language-server runs in the container (docker exec -i); the
 * agent kills it from inside with the exec tool (it owns the container's processes), the
 * operator stops the container from outside. Each time the next code call either answers or
 * fails retryably (E_UNAVAILABLE, never a hang, never E_INTERNAL), and the one after answers
 * with the documents the server had open.
 */

const docker = promisify(execFile);
const IMAGE = 'codebuddy-workspace:latest';
const engineReady = spawnSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' }).status === 0;
if (!engineReady && !process.env.CI) console.warn(`no Docker engine with ${IMAGE} here: the language-server crash tests on Docker are not run (see .ci/run)`);

const DEFINITION = 'src/cart.ts:13:3  addItem(product: Product, quantity = 1): void {';
const HOVER = '(method) Cart.addItem(product: Product, quantity?: number): void\nAdds a product, or more of one already in the cart.';
const BROKEN = "src/broken.ts version 1: 1 problem\nsrc/broken.ts:4:14  error TS2322: Type 'string' is not assignable to type 'number'.";
/** The server's own processes inside the container; `[t]` keeps the shell running this from matching itself. */
const SERVER_PIDS = "pgrep -f '[t]ypescript-language-server --stdio'";

describe.runIf(engineReady || process.env.CI)('language servers on a Docker workspace, killed from inside and stopped from outside', () => {
  let server: TestServer;
  let agent: McpClient;
  let containerId: string;
  const workspace = 'crashes';

  beforeAll(async () => {
    server = await startTestServer({ codeRequestTimeoutSeconds: 60, codeReadyTimeoutSeconds: 90 });
    agent = await connectModernHttp(server.url, server.token('acme', 'bot'));
    const created = await agent.call('workspace_create', { name: workspace, runtime: 'docker' });
    expect(created.isError, created.text).toBe(false);
    containerId = created.structured!.container_id as string;
    await copyFixture(agent, 'typescript', workspace);
  }, 180_000);

  afterAll(async () => {
    await agent?.call('workspace_delete', { workspace }).catch(() => undefined);
    await agent?.close();
    await server?.close();
  }, 120_000);

  const definition = () => agent.call('code_definition', { workspace, path: 'src/main.ts', line: 7, column: 6 });
  const exec = async (command: string) => (await agent.call('exec', { workspace, command })).structured as { exit_code: number | null; stdout: string; stderr: string };

  /** The next call answers, or fails retryably; the one after answers. Never a hang: each is timed. */
  async function answersAgain(): Promise<ToolAnswer> {
    const started = Date.now();
    const next = await definition();
    if (next.isError) {
      expect(next.code, next.text).toBe('E_UNAVAILABLE');
      expect((next.meta?.['codebuddy/error'] as { retryable?: boolean } | undefined)?.retryable).toBe(true);
    } else expect(next.text).toBe(DEFINITION);
    const after = await definition();
    expect(after.text).toBe(DEFINITION);
    console.log(`answered again ${Date.now() - started} ms after (first call: ${next.isError ? next.text : 'answered'})`);
    return next;
  }

  it('runs the server as the container user without capabilities, beside nothing of the host', async () => {
    expect((await definition()).text).toBe(DEFINITION);
    expect((await agent.call('code_hover', { workspace, path: 'src/main.ts', line: 7, column: 6 })).text).toBe(HOVER);
    expect((await agent.call('code_diagnostics', { workspace, path: 'src/broken.ts' })).text).toBe(BROKEN);
    const seen = await exec(`${SERVER_PIDS} | head -1 | xargs -I{} grep -E '^(Uid|CapEff|NoNewPrivs):' /proc/{}/status; ps -eo uid= | tr -d ' ' | sort -u`);
    // Only the container's user exists in there: the server's own user (root on the host) and its processes are out of reach.
    expect(seen.stdout.replace(/[ \t]+/g, ' ')).toBe('Uid: 1000 1000 1000 1000\nCapEff: 0000000000000000\nNoNewPrivs: 1\n1000\n');
    expect((await exec(`kill -0 ${process.pid} 2>&1 || echo unreachable`)).stdout).toMatch(/unreachable/);
  }, 180_000);

  it('an agent that kills the server from inside gets it back, with its open documents', async () => {
    const before = (await exec(SERVER_PIDS)).stdout.trim();
    expect(before).toMatch(/^\d+$/);
    // SIGTERM by name, as an agent would.
    expect((await exec(`pkill -f '[t]ypescript-language-server --stdio'; echo $?`)).stdout).toBe('0\n');
    await answersAgain();
    const status = await agent.call('code_status', { workspace });
    expect(status.structured!.servers).toMatchObject([{ id: 'typescript', state: 'ready', restarts: 1, open_documents: 2, last_crash: 'exit 143' }]);
    // The documents it had open were opened again: diagnostics of the same version, at once.
    expect((await agent.call('code_diagnostics', { workspace, path: 'src/broken.ts' })).text).toBe(BROKEN);
    const after = (await exec(SERVER_PIDS)).stdout.trim();
    expect(after).toMatch(/^\d+$/);
    expect(after).not.toBe(before);

    // SIGKILL by pid, twice in a row: the pool keeps restarting it (with a backoff, not a hang).
    for (const restarts of [2, 3]) {
      expect((await exec(`kill -9 $(${SERVER_PIDS}); echo $?`)).stdout).toBe('0\n');
      await answersAgain();
      expect((await agent.call('code_status', { workspace })).structured!.servers).toMatchObject([{ state: 'ready', restarts, open_documents: 2, last_crash: 'exit 137' }]);
    }
    // No server the pool lost track of is left running: one server, its tsserver children.
    expect((await exec(`${SERVER_PIDS} | wc -l`)).stdout.trim()).toBe('1');
  }, 180_000);

  it('a container killed from outside gives a clear retryable error, and the server starts again once the container is back', async () => {
    expect((await definition()).text).toBe(DEFINITION);
    await docker('docker', ['kill', containerId]);
    const started = Date.now();
    const first = await definition();
    expect(first).toMatchObject({ isError: true, code: 'E_UNAVAILABLE' });
    const second = await definition();
    expect(second).toMatchObject({ isError: true, code: 'E_UNAVAILABLE' });
    // The workspace's status follows the engine's events: the answer names the container and what brings it back.
    expect(second.text).toBe("E_UNAVAILABLE: workspace crashes's container is not running (stopped outside CodeBuddy, exit 137); workspace_start restarts it");
    expect((second.meta?.['codebuddy/error'] as { retryable?: boolean }).retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect((await agent.call('code_status', { workspace })).structured!.servers).toMatchObject([{ id: 'typescript', state: 'crashed' }]);

    await docker('docker', ['start', containerId]);
    expect((await definition()).text).toBe(DEFINITION);
    expect((await agent.call('code_status', { workspace })).structured!.servers).toMatchObject([{ state: 'ready', open_documents: 2 }]);
    expect((await agent.call('code_diagnostics', { workspace, path: 'src/broken.ts' })).text).toBe(BROKEN);
  }, 180_000);
});
