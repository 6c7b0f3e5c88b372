SELECT 1 / count(*)
FROM pg_indexes
WHERE schemaname = 'public'
  AND tablename = 'api_keys'
  AND indexname = 'api_keys_key_hash_key'
  AND indexdef LIKE 'CREATE UNIQUE INDEX %';
