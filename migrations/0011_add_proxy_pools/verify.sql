SELECT 1 / count(*)
FROM pg_constraint
WHERE conrelid = 'public.tasks'::regclass
  AND contype = 'f'
  AND confrelid = 'public.proxy_pools'::regclass
  AND confdeltype = 'n';
