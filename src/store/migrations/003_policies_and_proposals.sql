-- A workspace's policy: a preset and ordered rules. No row: the configured default preset.
CREATE TABLE policies (
  tenant_id     TEXT NOT NULL,
  workspace_id  TEXT NOT NULL,
  preset        TEXT NOT NULL,
  rules_json    TEXT NOT NULL,
  updated_by    TEXT NOT NULL,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, workspace_id)
) STRICT, WITHOUT ROWID;

-- An action held for a human decision, and what became of it. Keyed like its action row.
CREATE TABLE proposals (
  tenant_id        TEXT NOT NULL,
  action_id        TEXT NOT NULL,
  workspace_id     TEXT NOT NULL,
  operation        TEXT NOT NULL,
  requested_by     TEXT NOT NULL,
  arguments_json   TEXT NOT NULL,
  preview          TEXT NOT NULL,
  base_versions_json TEXT NOT NULL,
  state            TEXT NOT NULL CHECK (state IN ('proposed', 'approved', 'rejected', 'expired', 'applying', 'applied', 'failed')),
  decided_by       TEXT,
  reason           TEXT,
  result_json      TEXT,
  error_code       TEXT,
  error_message    TEXT,
  created_at       INTEGER NOT NULL,
  expires_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, action_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX proposals_by_state ON proposals(state, expires_at);
