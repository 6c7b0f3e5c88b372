DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_indexes
                   WHERE schemaname = 'public' AND indexname = 'tasks_config_gin_idx'
                     AND indexdef LIKE '%USING gin%') THEN
        RAISE EXCEPTION 'GIN index tasks_config_gin_idx is missing';
    END IF;
    IF enum_range(NULL::task_status)::text <> '{pending,queued,running,succeeded,failed,cancelled}' THEN
        RAISE EXCEPTION 'task_status has unexpected labels: %', enum_range(NULL::task_status);
    END IF;
END
$$;
