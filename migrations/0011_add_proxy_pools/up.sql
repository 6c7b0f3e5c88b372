CREATE TABLE proxy_pools (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE,
    kind text NOT NULL DEFAULT 'datacenter',
    region text,
    min_plan_id integer REFERENCES plans (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT proxy_pools_kind_check CHECK (kind IN ('datacenter', 'residential', 'mobile'))
);

COMMENT ON COLUMN proxy_pools.min_plan_id IS 'Cheapest plan allowed to use this pool; NULL means every plan';

CREATE TABLE proxies (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pool_id integer NOT NULL REFERENCES proxy_pools (id) ON DELETE CASCADE,
    host text NOT NULL,
    port integer NOT NULL,
    protocol text NOT NULL DEFAULT 'http',
    username text,
    password_encrypted bytea,
    is_healthy boolean NOT NULL DEFAULT true,
    failure_count integer NOT NULL DEFAULT 0,
    last_checked_at timestamptz,
    CONSTRAINT proxies_port_check CHECK (port BETWEEN 1 AND 65535),
    CONSTRAINT proxies_protocol_check CHECK (protocol IN ('http', 'https', 'socks5')),
    CONSTRAINT proxies_pool_id_host_port_key UNIQUE (pool_id, host, port)
);

CREATE INDEX proxies_healthy_pool_id_idx ON proxies (pool_id) WHERE is_healthy;

ALTER TABLE tasks
    ADD COLUMN proxy_pool_id integer REFERENCES proxy_pools (id) ON DELETE SET NULL;
