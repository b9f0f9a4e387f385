-- An idempotency key belongs to the user who used it, not to the whole tenant: another user
-- of the tenant presenting the same key neither replays that outcome nor collides with it
-- (an agent could otherwise take or poison the key an approver is about to use).
-- Keys stored before this migration cannot be attributed to a user and are dropped; at
-- worst a retry across the upgrade runs its call again as a new one.
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
  tenant_id     TEXT NOT NULL,
  user_id       TEXT NOT NULL DEFAULT '',
  key           TEXT NOT NULL,
  operation     TEXT NOT NULL,
  request_hash  TEXT NOT NULL,
  state         TEXT NOT NULL CHECK (state IN ('pending', 'done', 'interrupted')),
  action_id     TEXT,
  outcome_json  TEXT,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, user_id, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at);
