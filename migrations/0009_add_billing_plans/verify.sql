DO $$
BEGIN
    IF (SELECT count(*) FROM plans WHERE code IN ('free', 'starter', 'pro')) <> 3 THEN
        RAISE EXCEPTION 'the three public plans are not seeded';
    END IF;
    IF to_regclass('public.subscriptions_one_live_per_user') IS NULL THEN
        RAISE EXCEPTION 'index subscriptions_one_live_per_user is missing';
    END IF;
END
$$;
