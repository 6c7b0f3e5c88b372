ALTER TABLE tasks
    ADD COLUMN priority smallint NOT NULL DEFAULT 5,
    ADD CONSTRAINT tasks_priority_range CHECK (priority BETWEEN 1 AND 10);

CREATE INDEX tasks_queue_idx ON tasks (priority DESC, created_at)
    WHERE status IN ('pending', 'queued');
