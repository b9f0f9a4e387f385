-- Docker workspaces: their container, and how it was made (image, limits, file owner).
ALTER TABLE workspaces ADD COLUMN container_id TEXT;
ALTER TABLE workspaces ADD COLUMN runtime_config_json TEXT;
