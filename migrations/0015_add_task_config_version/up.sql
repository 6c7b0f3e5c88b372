ALTER TABLE tasks
    ADD COLUMN config_version text NOT NULL DEFAULT '1.0',
    ADD CONSTRAINT tasks_config_version_format CHECK (config_version ~ '^[0-9]+\.[0-9]+$');

COMMENT ON COLUMN tasks.config_version IS 'schema_version of the JSON document in config';

CREATE INDEX tasks_config_version_idx ON tasks (config_version);
