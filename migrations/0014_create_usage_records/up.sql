CREATE TABLE usage_records (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subscription_id bigint REFERENCES subscriptions (id) ON DELETE SET NULL,
    task_run_id bigint REFERENCES task_runs (id) ON DELETE SET NULL,
    proxy_pool_id integer REFERENCES proxy_pools (id) ON DELETE SET NULL,
    pages integer NOT NULL DEFAULT 0,
    bandwidth_bytes bigint NOT NULL DEFAULT 0,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT usage_records_nonnegative CHECK (pages >= 0 AND bandwidth_bytes >= 0)
);

CREATE INDEX usage_records_user_id_recorded_at_idx ON usage_records (user_id, recorded_at);

CREATE VIEW monthly_usage AS
SELECT user_id,
       date_trunc('month', recorded_at) AS month,
       sum(pages) AS pages,
       sum(bandwidth_bytes) AS bandwidth_bytes
FROM usage_records
GROUP BY user_id, date_trunc('month', recorded_at);
