/**
 * Every operation over REST, taken from the registry (no list here): at `POST /api/ops/<name>`
 * and at the resource route its definition declares, each answers the refusals MCP gives,
 * with the error handler's status and shape. Inputs come from the operation's own schema
 * (test/helpers/sample-input.ts), so a new operation is covered the day it is added.
 *
 * - no token: 401 E_UNAUTHENTICATED;
 * - a field the (strict) input does not have: 400 E_INVALID_ARGUMENT naming it;
 * - an operation for approvers and admins, by an agent token: 403 E_FORBIDDEN;
 * - another tenant's workspace (by id or by name, or the terminal an operation names):
 *   404 E_NOT_FOUND, worded exactly as for one that never existed.
 *
 * Every call here is refused before anything runs; the last test checks nothing changed.
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Operation } from '../../src/operations/operation.js';
import type { OperationDescriptor } from '../../src/operations/registry.js';
import { sampleInput } from '../helpers/sample-input.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const MADE_UP_WORKSPACE = 'ws_doesnotexist000000000000';
const MADE_UP_TERMINAL = 'term_doesnotexist00000000000';

interface Answer {
  status: number;
  body: { error?: { code: string; message: string; field?: string } } & Record<string, unknown>;
}

/** A route an operation is served at, and how an input becomes a request to it. */
interface Route {
  label: string;
  request(input: Record<string, unknown>): { method: string; path: string; body?: string };
}

function routesOf(operation: Operation): Route[] {
  const routes: Route[] = [{ label: `POST /api/ops/${operation.name}`, request: (input) => ({ method: 'POST', path: `/api/ops/${operation.name}`, body: JSON.stringify(input) }) }];
  const declared = operation.rest;
  if (!declared) return routes;
  routes.push({
    label: `${declared.method} ${declared.path}`,
    request(input) {
      const rest = { ...input };
      const path = declared.path.replace(/\{([^}]+)\}/g, (_match, field: string) => {
        const value = String(rest[field]);
        delete rest[field];
        return encodeURIComponent(value);
      });
      if (declared.method === 'POST') return { method: 'POST', path, body: JSON.stringify(rest) };
      const query = new URLSearchParams();
      for (const [key, value] of Object.entries(rest)) {
        for (const item of Array.isArray(value) ? value : [value]) query.append(key, typeof item === 'object' ? JSON.stringify(item) : String(item));
      }
      return { method: 'GET', path: `${path}?${query}` };
    },
  });
  return routes;
}

const needsApprover = (operation: Operation) => operation.roles !== undefined && !operation.roles.includes('agent');
const takesWorkspace = (descriptor: OperationDescriptor) => 'workspace' in descriptor.input.shape;

describe('every operation over REST', () => {
  let server: TestServer;
  let tokens: { acmeAdmin: string; acmeAgent: string; globexAgent: string; globexAdmin: string };
  let acme: { workspace: string; root: string; terminal: string };
  const descriptors = () => server.app.registry.list();

  async function send(route: Route, input: Record<string, unknown>, token: string | undefined): Promise<Answer> {
    const { method, path, body } = route.request(input);
    const response = await fetch(new URL(path, server.url), {
      method,
      headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body }),
    });
    return { status: response.status, body: (await response.json()) as Answer['body'] };
  }

  beforeAll(async () => {
    // Every refusal without a token counts as a failed authentication from this address.
    server = await startTestServer({ failedAuthPerMinute: 10_000 });
    tokens = {
      acmeAdmin: server.token('acme', 'ada', 'admin'),
      acmeAgent: server.token('acme', 'bot', 'agent'),
      globexAgent: server.token('globex', 'gus', 'agent'),
      globexAdmin: server.token('globex', 'gil', 'admin'),
    };
    const post = async (token: string, name: string, input: Record<string, unknown>) => {
      const response = await fetch(new URL(`/api/ops/${name}`, server.url), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(input) });
      const body = (await response.json()) as Record<string, unknown>;
      expect(response.status, `${name}: ${JSON.stringify(body)}`).toBe(200);
      return body;
    };
    const created = await post(tokens.acmeAgent, 'workspace_create', { name: 'acme-only' });
    await post(tokens.globexAgent, 'workspace_create', { name: 'globex-own' });
    await post(tokens.acmeAgent, 'file_write', { workspace: 'acme-only', path: 'hello.txt', content: 'acme\n' });
    const terminal = await post(tokens.acmeAgent, 'terminal_open', { workspace: 'acme-only', shell: '/bin/sh' });
    acme = { workspace: created.id as string, root: created.root as string, terminal: terminal.id as string };
  });

  afterAll(async () => server?.close());

  it('the sample input of every operation passes its validation (else this test cannot reach it)', () => {
    const failing = descriptors()
      .filter((descriptor) => !descriptor.input.safeParse(sampleInput(descriptor.input)).success)
      .map((descriptor) => descriptor.operation.name);
    expect(failing).toEqual([]);
    expect(descriptors().length).toBeGreaterThan(50);
  });

  it('no token: 401 E_UNAUTHENTICATED on every route', async () => {
    for (const { operation, input } of descriptors()) {
      for (const route of routesOf(operation)) {
        const answer = await send(route, sampleInput(input), undefined);
        expect({ route: route.label, ...answer }).toMatchObject({ route: route.label, status: 401, body: { error: { code: 'E_UNAUTHENTICATED' } } });
      }
    }
  });

  it('an unknown field: 400 E_INVALID_ARGUMENT naming it, on every route', async () => {
    for (const { operation, input } of descriptors()) {
      for (const route of routesOf(operation)) {
        const sample = { ...sampleInput(input), ...('workspace' in input.shape ? { workspace: 'acme-only' } : {}), unexpected_field: 'x' };
        const answer = await send(route, sample, tokens.acmeAdmin);
        expect({ route: route.label, ...answer }).toEqual({
          route: route.label,
          status: 400,
          body: { error: { code: 'E_INVALID_ARGUMENT', message: 'invalid argument unexpected_field: unknown field', field: 'unexpected_field' } },
        });
      }
    }
  });

  it('an operation for approvers and admins, by an agent token: 403 E_FORBIDDEN', async () => {
    const gated = descriptors().filter(({ operation }) => needsApprover(operation));
    expect(gated.length).toBeGreaterThan(0);
    for (const { operation, input } of gated) {
      for (const route of routesOf(operation)) {
        const answer = await send(route, { ...sampleInput(input), ...('workspace' in input.shape ? { workspace: 'acme-only' } : {}) }, tokens.acmeAgent);
        expect({ route: route.label, status: answer.status, code: answer.body.error?.code }).toEqual({ route: route.label, status: 403, code: 'E_FORBIDDEN' });
        expect(answer.body.error!.message).toBe(`${operation.name} needs the ${operation.roles!.join(' or ')} role; this token has agent`);
      }
    }
  });

  it("another tenant's workspace answers exactly like a missing one, on every route that takes a workspace", async () => {
    const taking = descriptors().filter(takesWorkspace);
    expect(taking.length).toBeGreaterThan(30);
    for (const { operation, input } of taking) {
      // An approver-only operation by an agent is refused for its role first: the tenancy is tried with an admin.
      const token = needsApprover(operation) ? tokens.globexAdmin : tokens.globexAgent;
      for (const route of routesOf(operation)) {
        const missing = await send(route, { ...sampleInput(input), workspace: MADE_UP_WORKSPACE }, token);
        expect({ route: route.label, ...missing }).toEqual({ route: route.label, status: 404, body: { error: { code: 'E_NOT_FOUND', message: `workspace ${MADE_UP_WORKSPACE} not found` } } });
        for (const reference of [acme.workspace, 'acme-only']) {
          const crossed = await send(route, { ...sampleInput(input), workspace: reference }, token);
          expect({ route: route.label, ...crossed }).toEqual({ route: route.label, status: 404, body: { error: { code: 'E_NOT_FOUND', message: `workspace ${reference} not found` } } });
        }
      }
    }
  });

  it("an operation that finds its workspace through what it names (a terminal): another tenant's answers like a missing one", async () => {
    const naming = descriptors().filter(({ operation }) => operation.scope === 'workspace' && operation.workspaceOf !== undefined);
    expect(naming.length).toBeGreaterThan(0);
    for (const { operation, input } of naming) {
      // They name it by `id` (terminal_*): a new kind would need its own foreign thing here.
      expect(Object.keys(input.shape), operation.name).toContain('id');
      for (const route of routesOf(operation)) {
        const missing = await send(route, { ...sampleInput(input), id: MADE_UP_TERMINAL }, tokens.globexAgent);
        const crossed = await send(route, { ...sampleInput(input), id: acme.terminal }, tokens.globexAgent);
        expect({ route: route.label, status: missing.status, code: missing.body.error?.code }).toEqual({ route: route.label, status: 404, code: 'E_NOT_FOUND' });
        expect({ route: route.label, status: crossed.status, body: JSON.stringify(crossed.body).split(acme.terminal).join('<id>') }).toEqual({
          route: route.label,
          status: 404,
          body: JSON.stringify(missing.body).split(MADE_UP_TERMINAL).join('<id>'),
        });
      }
    }
  });

  it('after all that, acme’s workspace holds what it held', async () => {
    expect(readdirSync(acme.root)).toEqual(['hello.txt']);
    const read = await fetch(new URL('/api/ops/file_read', server.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.acmeAgent}`, 'content-type': 'application/json' },
      body: JSON.stringify({ workspace: 'acme-only', path: 'hello.txt' }),
    });
    expect(await read.json()).toMatchObject({ content: 'acme' });
    const terminals = await fetch(new URL('/api/ops/terminal_list', server.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.acmeAgent}`, 'content-type': 'application/json' },
      body: JSON.stringify({ workspace: 'acme-only' }),
    });
    expect(await terminals.json()).toMatchObject({ terminals: [{ id: acme.terminal, status: 'open' }] });
  });
});
