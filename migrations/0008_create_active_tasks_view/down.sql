DROP VIEW active_tasks;
