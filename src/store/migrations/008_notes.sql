-- A workspace's notes: owned by the notes service (src/notes/). Every row carries its tenant
-- and workspace, first in every key, so no lookup can reach across either.

-- A workspace's number for the full-text index: its notes' rowids are slot * 2^24 + n, so
-- one workspace's notes are one rowid range, which FTS5 seeks to in every doclist instead of
-- ranking other tenants' matches. Never reused (AUTOINCREMENT).
CREATE TABLE note_scopes (
  slot          INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id     TEXT NOT NULL,
  workspace_id  TEXT NOT NULL,
  UNIQUE (tenant_id, workspace_id)
) STRICT;

-- A rowid table: the rowid (in the workspace's range) ties a note to its row in notes_fts.
CREATE TABLE notes (
  tenant_id     TEXT NOT NULL,
  workspace_id  TEXT NOT NULL,
  id            TEXT NOT NULL,
  title         TEXT NOT NULL,
  body          TEXT NOT NULL,
  tags_json     TEXT NOT NULL,
  author        TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  version       INTEGER NOT NULL,
  UNIQUE (tenant_id, workspace_id, id)
) STRICT;

-- Title and body, searched with bm25; kept in step with `notes` by the triggers below.
CREATE VIRTUAL TABLE notes_fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');

CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes BEGIN
  INSERT INTO notes_fts (rowid, title, body) VALUES (new.rowid, new.title, new.body);
END;
CREATE TRIGGER notes_fts_update AFTER UPDATE OF title, body ON notes BEGIN
  UPDATE notes_fts SET title = new.title, body = new.body WHERE rowid = new.rowid;
END;
CREATE TRIGGER notes_fts_delete AFTER DELETE ON notes BEGIN
  DELETE FROM notes_fts WHERE rowid = old.rowid;
END;

-- Tags, for `note_list {tag}`; the note's own copy (tags_json) is what it shows. Keys lead
-- with the note in these satellite tables: a note's rows are replaced or deleted by that
-- prefix (the planner, with no statistics, takes a primary-key prefix over a better index).
CREATE TABLE note_tags (
  tenant_id     TEXT NOT NULL,
  workspace_id  TEXT NOT NULL,
  note_id       TEXT NOT NULL,
  tag           TEXT NOT NULL,
  PRIMARY KEY (tenant_id, workspace_id, note_id, tag)
) STRICT, WITHOUT ROWID;
CREATE INDEX note_tags_by_tag ON note_tags (tenant_id, workspace_id, tag, note_id);

-- Typed links from a note to a note (target_ref = its id), a file (target_ref = path) or a
-- symbol (target_ref = path, target_symbol = its name path). Files and symbols follow moves.
CREATE TABLE note_links (
  tenant_id     TEXT NOT NULL,
  workspace_id  TEXT NOT NULL,
  id            TEXT NOT NULL,
  from_note     TEXT NOT NULL,
  type          TEXT NOT NULL,
  target_kind   TEXT NOT NULL CHECK (target_kind IN ('note', 'file', 'symbol')),
  target_ref    TEXT NOT NULL,
  target_symbol TEXT NOT NULL DEFAULT '',
  created_by    TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, workspace_id, from_note, id),
  UNIQUE (tenant_id, workspace_id, from_note, type, target_kind, target_ref, target_symbol)
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX note_links_by_id ON note_links (tenant_id, workspace_id, id);
CREATE INDEX note_links_by_target ON note_links (tenant_id, workspace_id, target_ref, target_kind);

-- A checkbox line of a note's body as a row; `line` is 1-based in the current body.
CREATE TABLE note_tasks (
  tenant_id     TEXT NOT NULL,
  workspace_id  TEXT NOT NULL,
  id            TEXT NOT NULL,
  note_id       TEXT NOT NULL,
  line          INTEGER NOT NULL,
  text          TEXT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('open', 'done')),
  assignee      TEXT,
  due           TEXT,
  PRIMARY KEY (tenant_id, workspace_id, note_id, line)
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX note_tasks_by_id ON note_tasks (tenant_id, workspace_id, id);

-- A note's attachment: a stored blob (content-addressed under <dataDir>/blobs) or a
-- workspace file as it was when attached (its path and sha256).
CREATE TABLE note_artifacts (
  tenant_id     TEXT NOT NULL,
  workspace_id  TEXT NOT NULL,
  id            TEXT NOT NULL,
  note_id       TEXT NOT NULL,
  kind          TEXT NOT NULL CHECK (kind IN ('blob', 'file')),
  name          TEXT NOT NULL,
  media_type    TEXT NOT NULL,
  sha256        TEXT NOT NULL,
  size          INTEGER NOT NULL,
  path          TEXT,
  created_by    TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, workspace_id, note_id, id)
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX note_artifacts_by_id ON note_artifacts (tenant_id, workspace_id, id);
-- Across tenants on purpose: a blob file is shared by equal content and removed only when no row names it.
CREATE INDEX note_artifacts_by_blob ON note_artifacts (sha256) WHERE kind = 'blob';
