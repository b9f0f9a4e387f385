-- The outcome of a mutating call made with an idempotency key, replayed to every retry.
-- `pending` while the first call runs. A pending row left by a process that died becomes
-- `interrupted`: whether its call took effect is unknown, so a retry must not run it again.
CREATE TABLE idempotency_keys (
  tenant_id     TEXT NOT NULL,
  key           TEXT NOT NULL,
  operation     TEXT NOT NULL,
  request_hash  TEXT NOT NULL,
  state         TEXT NOT NULL CHECK (state IN ('pending', 'done', 'interrupted')),
  action_id     TEXT,
  outcome_json  TEXT,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at);
