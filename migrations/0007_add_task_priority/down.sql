DROP INDEX tasks_queue_idx;

ALTER TABLE tasks
    DROP CONSTRAINT tasks_priority_range,
    DROP COLUMN priority;
