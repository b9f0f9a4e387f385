-- Terminals live in one server process; their records outlive it, so a restart can say
-- which terminals it closed.
CREATE TABLE terminals (
  tenant_id     TEXT NOT NULL,
  id            TEXT NOT NULL,
  workspace_id  TEXT NOT NULL,
  shell         TEXT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('open', 'closed')),
  exit_code     INTEGER,
  close_reason  TEXT,
  created_by    TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  closed_at     INTEGER,
  PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;
