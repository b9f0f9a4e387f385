-- Every row belongs to a tenant: tenant_id is on every table, first in every key and index.

CREATE TABLE tenants (
  id          TEXT PRIMARY KEY,
  created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE api_tokens (
  id           TEXT PRIMARY KEY,
  tenant_id    TEXT NOT NULL REFERENCES tenants(id),
  user_id      TEXT NOT NULL,
  role         TEXT NOT NULL CHECK (role IN ('agent', 'approver', 'admin')),
  secret_hash  TEXT NOT NULL,
  label        TEXT,
  created_at   INTEGER NOT NULL,
  revoked_at   INTEGER
) STRICT;
CREATE INDEX api_tokens_by_tenant ON api_tokens(tenant_id);

CREATE TABLE workspaces (
  tenant_id   TEXT NOT NULL REFERENCES tenants(id),
  id          TEXT NOT NULL PRIMARY KEY,
  name        TEXT NOT NULL,
  root_path   TEXT NOT NULL UNIQUE,
  adopted     INTEGER NOT NULL CHECK (adopted IN (0, 1)),
  runtime     TEXT NOT NULL DEFAULT 'local',
  status      TEXT NOT NULL DEFAULT 'ready',
  created_by  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  UNIQUE (tenant_id, name)
) STRICT;

-- One row per operation call: who, where, what, how it ended.
-- Keyed (tenant_id, id) WITHOUT ROWID: ids are time-ordered, so the key itself clusters a
-- tenant's actions by time, and a commit touches one b-tree here instead of three.
CREATE TABLE actions (
  tenant_id       TEXT NOT NULL,
  id              TEXT NOT NULL,
  user_id         TEXT NOT NULL,
  role            TEXT NOT NULL,
  workspace_id    TEXT,
  operation       TEXT NOT NULL,
  effect          TEXT NOT NULL,
  arguments_json  TEXT NOT NULL,
  status          TEXT NOT NULL,
  result_summary  TEXT,
  error_code      TEXT,
  correlation_id  TEXT NOT NULL,
  started_at      INTEGER NOT NULL,
  duration_ms     REAL NOT NULL,
  PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;

-- Append-only, hash-chained per tenant: hash = sha256(prev_hash || canonical(event)).
CREATE TABLE audit_events (
  tenant_id       TEXT NOT NULL,
  seq             INTEGER NOT NULL,
  at              INTEGER NOT NULL,
  type            TEXT NOT NULL,
  actor           TEXT NOT NULL,
  workspace_id    TEXT,
  action_id       TEXT,
  correlation_id  TEXT,
  payload_json    TEXT NOT NULL,
  prev_hash       TEXT NOT NULL,
  hash            TEXT NOT NULL,
  PRIMARY KEY (tenant_id, seq)
) STRICT, WITHOUT ROWID;
