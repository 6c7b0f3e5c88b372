CREATE TABLE task_runs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    status task_status NOT NULL DEFAULT 'queued',
    worker_id text,
    queued_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    pages_scraped integer NOT NULL DEFAULT 0,
    error_message text,
    CONSTRAINT task_runs_pages_scraped_check CHECK (pages_scraped >= 0),
    CONSTRAINT task_runs_finished_after_started
        CHECK (finished_at IS NULL OR started_at IS NULL OR finished_at >= started_at)
);

CREATE INDEX task_runs_task_id_queued_at_idx ON task_runs (task_id, queued_at DESC);
