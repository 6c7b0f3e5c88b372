SELECT task_id, last_run_id, last_run_status
FROM active_tasks
LIMIT 0;
