CREATE TABLE plans (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code text NOT NULL UNIQUE,
    name text NOT NULL,
    monthly_price numeric(10,2) NOT NULL,
    currency char(3) NOT NULL DEFAULT 'USD',
    monthly_page_quota integer NOT NULL,
    max_concurrent_tasks integer NOT NULL DEFAULT 1,
    is_public boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT plans_monthly_price_check CHECK (monthly_price >= 0),
    CONSTRAINT plans_limits_check CHECK (monthly_page_quota > 0 AND max_concurrent_tasks > 0)
);

CREATE TABLE subscriptions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    plan_id integer NOT NULL REFERENCES plans (id) ON DELETE RESTRICT,
    status text NOT NULL DEFAULT 'active',
    current_period_start timestamptz NOT NULL,
    current_period_end timestamptz NOT NULL,
    cancel_at_period_end boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT subscriptions_status_check
        CHECK (status IN ('trialing', 'active', 'past_due', 'cancelled')),
    CONSTRAINT subscriptions_period_check CHECK (current_period_end > current_period_start)
);

CREATE UNIQUE INDEX subscriptions_one_live_per_user ON subscriptions (user_id)
    WHERE status IN ('trialing', 'active', 'past_due');
CREATE INDEX subscriptions_plan_id_idx ON subscriptions (plan_id);

CREATE TRIGGER subscriptions_set_updated_at
    BEFORE UPDATE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

INSERT INTO plans (code, name, monthly_price, monthly_page_quota, max_concurrent_tasks)
VALUES ('free', 'Free', 0.00, 1000, 1),
       ('starter', 'Starter', 29.00, 50000, 5),
       ('pro', 'Pro', 149.00, 500000, 25);
