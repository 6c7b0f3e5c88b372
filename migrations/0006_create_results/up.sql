CREATE TABLE results (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_run_id bigint NOT NULL REFERENCES task_runs (id) ON DELETE CASCADE,
    url text NOT NULL,
    http_status smallint,
    data jsonb NOT NULL,
    content_sha256 bytea,
    scraped_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT results_http_status_check CHECK (http_status BETWEEN 100 AND 599)
);

CREATE INDEX results_task_run_id_idx ON results (task_run_id);
