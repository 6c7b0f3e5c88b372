DROP INDEX tasks_config_version_idx;

ALTER TABLE tasks
    DROP CONSTRAINT tasks_config_version_format,
    DROP COLUMN config_version;
