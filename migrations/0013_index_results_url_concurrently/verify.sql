SELECT 1 / count(*)
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relname = 'results_url_idx'
  AND i.indisvalid
  AND i.indisready;
