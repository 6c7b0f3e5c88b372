CREATE TYPE task_status AS ENUM (
    'pending',
    'queued',
    'running',
    'succeeded',
    'failed',
    'cancelled'
);

CREATE TABLE tasks (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL,
    config jsonb NOT NULL DEFAULT '{}'::jsonb,
    status task_status NOT NULL DEFAULT 'pending',
    schedule_cron text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tasks_config_is_object CHECK (jsonb_typeof(config) = 'object'),
    CONSTRAINT tasks_user_id_name_key UNIQUE (user_id, name)
);

CREATE INDEX tasks_config_gin_idx ON tasks USING gin (config jsonb_path_ops);
CREATE INDEX tasks_status_idx ON tasks (status);

CREATE TRIGGER tasks_set_updated_at
    BEFORE UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
