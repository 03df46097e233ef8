-- API tokens (app passwords) for basic auth, bot accounts, and the product a password
-- basic-auth account is bound to.

-- Bots: accounts with no mailbox and no web sign-in, holding API tokens only. An owning
-- organization manages its bots (their addresses are not on its domains).
ALTER TABLE accounts ADD COLUMN bot INTEGER NOT NULL DEFAULT 0 CHECK (bot IN (0, 1));
ALTER TABLE accounts ADD COLUMN bot_org_id TEXT REFERENCES organizations (id) ON DELETE SET NULL;
CREATE INDEX accounts_bot_org ON accounts (bot_org_id);

-- Stored as SHA-256 of the whole token; the token itself is shown once.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    -- Space-separated client ids the token is restricted to; empty: every product.
    products     TEXT NOT NULL,
    created_by   TEXT,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_used_at INTEGER,
    last_used_ip TEXT
);
CREATE INDEX api_tokens_account ON api_tokens (account_id);

-- Uses per token per UTC day, added up by every node, summarized into the audit log daily.
CREATE TABLE api_token_usage (
    token_id TEXT NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    day      INTEGER NOT NULL,
    uses     INTEGER NOT NULL,
    PRIMARY KEY (token_id, day)
);

-- The one product an account verified with a password over basic auth is used with: the
-- first product to verify it claims it.
CREATE TABLE basic_auth_bindings (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    bound_at   INTEGER NOT NULL
);
