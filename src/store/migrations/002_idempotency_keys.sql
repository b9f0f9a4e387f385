-- The outcome of a mutating call made with an idempotency key, replayed to every retry.
-- `pending` while the first call runs; a pending row left by a crashed process is cleared at start.
CREATE TABLE idempotency_keys (
  tenant_id     TEXT NOT NULL,
  key           TEXT NOT NULL,
  operation     TEXT NOT NULL,
  request_hash  TEXT NOT NULL,
  state         TEXT NOT NULL CHECK (state IN ('pending', 'done')),
  action_id     TEXT,
  outcome_json  TEXT,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at);
