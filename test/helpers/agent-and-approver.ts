import type { Config } from '../../src/config/config-schema.js';
import { connectModernHttp, type McpClient } from './mcp-clients.js';
import { startTestServer, type TestServer } from './test-server.js';

/** A test server with tenant acme's agent (`bot`) and approver (`ana`) connected over HTTP. */
export interface AgentAndApprover {
  server: TestServer;
  agent: McpClient;
  approver: McpClient;
}

/** The setup of every test of held actions: the one who proposes and the one who decides. */
export async function startWithAgentAndApprover(settings: Partial<Record<keyof Config, unknown>> = {}): Promise<AgentAndApprover> {
  const server = await startTestServer(settings);
  let agent: McpClient | undefined;
  try {
    agent = await connectModernHttp(server.url, server.token('acme', 'bot', 'agent'));
    const approver = await connectModernHttp(server.url, server.token('acme', 'ana', 'approver'));
    return { server, agent, approver };
  } catch (error) {
    // The caller never gets the parts to close: close them here.
    await closeAgentAndApprover({ server, agent });
    throw error;
  }
}

/** Closes what startWithAgentAndApprover opened; parts a failed setup never made are skipped. */
export async function closeAgentAndApprover(parts: Partial<AgentAndApprover>): Promise<void> {
  await Promise.all([parts.agent?.close(), parts.approver?.close()]);
  await parts.server?.close();
}
