ALTER TABLE tasks DROP COLUMN proxy_pool_id;
DROP TABLE proxies;
DROP TABLE proxy_pools;
