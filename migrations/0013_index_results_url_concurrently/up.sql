CREATE INDEX CONCURRENTLY results_url_idx ON results (url);
