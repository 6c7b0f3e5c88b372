SELECT 1 / count(*)
FROM pg_trigger
WHERE tgrelid = 'public.users'::regclass
  AND tgname = 'users_set_updated_at'
  AND tgfoid = 'public.set_updated_at()'::regprocedure;
