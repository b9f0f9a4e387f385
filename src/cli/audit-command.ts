import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { App } from '../app.js';
import { CodeBuddyError } from '../core/errors.js';

/** `codebuddy audit verify`: walks each tenant's chain; a broken link makes the exit code 1. */
export function auditVerify(app: App, tenant: string | undefined): { ok: boolean; lines: string[] } {
  const tenants = tenant ? [tenant] : app.auditChain.tenants();
  const lines: string[] = [];
  let ok = true;
  for (const tenantId of tenants) {
    const result = app.auditChain.verify(tenantId);
    if (result.ok) lines.push(`${tenantId}: ok, ${result.events} events`);
    else {
      ok = false;
      lines.push(`${tenantId}: BROKEN at seq ${result.brokenAtSeq} (${result.events} events verified before it)`);
    }
  }
  if (tenants.length === 0) lines.push('no audit events yet');
  return { ok, lines };
}

/**
 * `codebuddy audit export`: every stored field of every event as JSON lines, hashes
 * included, so an export can be checked against the chain away from the server.
 */
export async function auditExport(app: App, options: { tenant?: string; since?: string; out?: string }): Promise<number> {
  const since = options.since === undefined ? undefined : Date.parse(options.since);
  if (since !== undefined && Number.isNaN(since)) throw new CodeBuddyError('E_INVALID_ARGUMENT', '--since: an ISO 8601 time, e.g. 2026-11-22T10:00:00Z');
  const output: Writable = options.out ? createWriteStream(options.out) : process.stdout;
  let written = 0;
  for (const tenantId of options.tenant ? [options.tenant] : app.auditChain.tenants()) {
    for (let after = 0; ; ) {
      const page = app.auditChain.query(tenantId, since === undefined ? {} : { since }, after, 1000);
      if (page.length === 0) break;
      for (const row of page) {
        if (!output.write(`${JSON.stringify(row)}\n`)) await once(output, 'drain');
        written++;
      }
      after = page[page.length - 1]!.seq;
    }
  }
  if (options.out) {
    output.end();
    await once(output, 'finish');
  }
  return written;
}
