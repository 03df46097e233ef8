-- Accounts, browser sessions, single-use emailed tokens and throttling counters.
-- Times are integer Unix seconds (UTC) in both engines.

CREATE TABLE accounts (
    id                TEXT PRIMARY KEY,
    email             TEXT NOT NULL,
    email_normalized  TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    password_hash     TEXT,
    email_verified_at BIGINT,
    status            TEXT NOT NULL DEFAULT 'active'
                      CHECK (status IN ('active', 'deactivated', 'closed')),
    site_admin        BIGINT NOT NULL DEFAULT 0 CHECK (site_admin IN (0, 1)),
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX accounts_created ON accounts (created_at, id);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_agent   TEXT NOT NULL,
    ip           TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE one_time_tokens (
    token_hash TEXT PRIMARY KEY,
    purpose    TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX one_time_tokens_account ON one_time_tokens (account_id, purpose);

CREATE TABLE throttle_counters (
    key          TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL
);
CREATE INDEX throttle_counters_window ON throttle_counters (window_start);
