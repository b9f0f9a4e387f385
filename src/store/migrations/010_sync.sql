-- Real-time sync: one row per document (a file or a note body of a workspace), and its log
-- of Yjs updates. An update is stored before it is relayed, so nothing a client saw is lost.
-- The snapshot is the document's whole state as of `snapshot_seq` (loading reads it and the
-- updates after it); the log itself is kept, as history, with runs of one author's
-- keystrokes merged when the document is compacted.
CREATE TABLE sync_documents (
  tenant_id      TEXT NOT NULL,
  workspace_id   TEXT NOT NULL,
  doc_key        TEXT NOT NULL,            -- 'file:<workspace-relative path>' or 'note:<id>'
  snapshot       BLOB,
  snapshot_seq   INTEGER NOT NULL DEFAULT 0,
  last_seq       INTEGER NOT NULL DEFAULT 0,
  -- The state of the document when it last equalled the file on disk, and that file's
  -- sha256: the common ancestor of a three-way merge when the file changed meanwhile.
  base_state     BLOB,
  base_sha256    TEXT,
  -- Who made the edits not yet written to disk (a crash between an edit and its write), as JSON.
  pending_author TEXT,
  updated_at     INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, workspace_id, doc_key)
) STRICT, WITHOUT ROWID;

CREATE TABLE sync_updates (
  tenant_id     TEXT NOT NULL,
  workspace_id  TEXT NOT NULL,
  doc_key       TEXT NOT NULL,
  seq           INTEGER NOT NULL,
  at            INTEGER NOT NULL,
  -- 'tenant/user' of a sync client, or null for a change seen on disk.
  author        TEXT,
  -- The recorded action that made the change: a file tool's, or the write of a human edit.
  action_id     TEXT,
  origin        TEXT NOT NULL CHECK (origin IN ('client', 'disk', 'revert')),
  data          BLOB NOT NULL,
  PRIMARY KEY (tenant_id, workspace_id, doc_key, seq)
) STRICT, WITHOUT ROWID;
