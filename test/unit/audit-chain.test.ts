import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditChain } from '../../src/ledger/audit-chain.js';
import { openDatabase } from '../../src/store/database.js';
import { AuditRepository } from '../../src/store/audit-repository.js';
import { tempDir } from '../helpers/test-server.js';

function chainWith(events: number) {
  const db = openDatabase(join(tempDir(), 'audit.db'));
  const chain = new AuditChain(new AuditRepository(db));
  for (let i = 0; i < events; i++) {
    for (const tenantId of ['acme', 'globex']) {
      chain.append({ tenantId, at: 1_700_000_000_000 + i, type: 'action.recorded', actor: `${tenantId}/u`, workspaceId: null, actionId: `act_${i}`, correlationId: 'c', payload: { n: i } });
    }
  }
  return { db, chain };
}

describe('audit chain', () => {
  it('numbers events per tenant and verifies an untouched chain', () => {
    const { chain } = chainWith(10);
    expect(chain.verify('acme')).toEqual({ ok: true, events: 10 });
    expect(chain.verify('globex')).toEqual({ ok: true, events: 10 });
  });

  it('finds an edited row', () => {
    const { db, chain } = chainWith(10);
    db.prepare("UPDATE audit_events SET payload_json = '{\"n\":99}' WHERE tenant_id = 'acme' AND seq = 4").run();
    expect(chain.verify('acme')).toMatchObject({ ok: false, brokenAtSeq: 4 });
    expect(chain.verify('globex')).toMatchObject({ ok: true });
  });

  it('finds a deleted row', () => {
    const { db, chain } = chainWith(10);
    db.prepare("DELETE FROM audit_events WHERE tenant_id = 'acme' AND seq = 6").run();
    expect(chain.verify('acme')).toMatchObject({ ok: false, brokenAtSeq: 6 });
  });

  it('finds reordered rows', () => {
    const { db, chain } = chainWith(10);
    db.transaction(() => {
      db.prepare("UPDATE audit_events SET seq = 1000 WHERE tenant_id = 'acme' AND seq = 2").run();
      db.prepare("UPDATE audit_events SET seq = 2 WHERE tenant_id = 'acme' AND seq = 3").run();
      db.prepare("UPDATE audit_events SET seq = 3 WHERE tenant_id = 'acme' AND seq = 1000").run();
    })();
    expect(chain.verify('acme')).toMatchObject({ ok: false, brokenAtSeq: 2 });
  });
});
