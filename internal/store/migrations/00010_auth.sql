-- +goose Up

-- Rep tokens (starter rep token) and web UI sessions (internal/auth).
-- Neither table holds a usable credential: a token is "lft_<id>_<secret>"
-- and only SHA-256(secret) is kept; a session is known by SHA-256 of the
-- random ID in its cookie. A copy of the database opens nothing.

CREATE TABLE rep_tokens (
    id           text        PRIMARY KEY CHECK (id ~ '^[0-9a-f]{16}$'),
    rep_id       text        NOT NULL REFERENCES reps (id),
    secret_hash  bytea       NOT NULL CHECK (length(secret_hash) = 32),
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL CHECK (expires_at > created_at),
    revoked_at   timestamptz,
    last_used_at timestamptz  -- a sign-in or bearer request; touched at most once a minute
);
CREATE INDEX rep_tokens_rep ON rep_tokens (rep_id, created_at);

-- A session is the admin's (admin_mac set) or a rep's (rep_id and the
-- token it was opened with). admin_mac is HMAC-SHA256(LEADFLOW_API_TOKEN,
-- session ID): when the admin token changes, admin sessions stop matching.
-- A rep session ends with its token (revoked or expired), checked on use.
CREATE TABLE ui_sessions (
    id_hash    bytea       PRIMARY KEY CHECK (length(id_hash) = 32),
    rep_id     text,
    token_id   text        REFERENCES rep_tokens (id) ON DELETE CASCADE,
    admin_mac  bytea,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL CHECK (expires_at > created_at),
    last_seen  timestamptz NOT NULL,
    CHECK ((rep_id IS NULL AND token_id IS NULL AND admin_mac IS NOT NULL)
        OR (rep_id IS NOT NULL AND token_id IS NOT NULL AND admin_mac IS NULL))
);
CREATE INDEX ui_sessions_token ON ui_sessions (token_id);

-- +goose Down
DROP TABLE ui_sessions;
DROP TABLE rep_tokens;
