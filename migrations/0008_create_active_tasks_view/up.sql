CREATE VIEW active_tasks AS
SELECT t.id AS task_id,
       t.user_id,
       t.name,
       t.status,
       t.priority,
       r.id AS last_run_id,
       r.status AS last_run_status,
       r.started_at AS last_run_started_at,
       r.finished_at AS last_run_finished_at,
       r.pages_scraped AS last_run_pages_scraped
FROM tasks t
LEFT JOIN LATERAL (
    SELECT tr.id, tr.status, tr.started_at, tr.finished_at, tr.pages_scraped
    FROM task_runs tr
    WHERE tr.task_id = t.id
    ORDER BY tr.queued_at DESC
    LIMIT 1
) r ON true
WHERE t.status IN ('pending', 'queued', 'running');

COMMENT ON VIEW active_tasks IS 'Tasks not yet finished, with their latest run';
