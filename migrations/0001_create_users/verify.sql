DO $$
BEGIN
    IF to_regclass('public.users') IS NULL THEN
        RAISE EXCEPTION 'table users is missing';
    END IF;
    IF to_regclass('public.users_email_lower_key') IS NULL THEN
        RAISE EXCEPTION 'index users_email_lower_key is missing';
    END IF;
END
$$;
