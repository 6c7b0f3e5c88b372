CREATE TABLE api_keys (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL,
    key_prefix varchar(12) NOT NULL,
    key_hash bytea NOT NULL,
    scopes text[] NOT NULL DEFAULT '{tasks:read,tasks:write}',
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    expires_at timestamptz,
    revoked_at timestamptz,
    CONSTRAINT api_keys_key_hash_length CHECK (octet_length(key_hash) = 32)
);

CREATE UNIQUE INDEX api_keys_key_hash_key ON api_keys (key_hash);
CREATE INDEX api_keys_live_user_id_idx ON api_keys (user_id) WHERE revoked_at IS NULL;

COMMENT ON COLUMN api_keys.key_hash IS 'SHA-256 of the secret key; the secret itself is never stored';
COMMENT ON COLUMN api_keys.key_prefix IS 'First characters of the key, shown in the dashboard to tell keys apart';
