-- The OpenID Connect provider: products (clients), signing keys, authorization codes, grants
-- (one per code redemption or refresh family) and refresh tokens. Secrets and codes are
-- stored as SHA-256; private keys encrypted (AES-256-GCM) with the master key.

CREATE TABLE clients (
    id                        TEXT PRIMARY KEY,
    name                      TEXT NOT NULL,
    secret_hash               TEXT,
    redirect_uris             TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    backchannel_logout_uri    TEXT,
    grant_types               TEXT NOT NULL,
    scopes                    TEXT NOT NULL,
    first_party               INTEGER NOT NULL,
    id_token_alg              TEXT NOT NULL,
    created_at                INTEGER NOT NULL
);

CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY,
    alg           TEXT NOT NULL,
    private_key   TEXT NOT NULL,
    public_jwk    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    active_from   INTEGER NOT NULL,
    retire_at     INTEGER
);

CREATE TABLE authorization_codes (
    code_hash      TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    account_id     TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    session_id     TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    scope          TEXT NOT NULL,
    nonce          TEXT,
    code_challenge TEXT,
    auth_time      INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    grant_id       TEXT
);

CREATE TABLE grants (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    session_id  TEXT NOT NULL,
    scope       TEXT NOT NULL,
    access_jti  TEXT NOT NULL,
    auth_time   INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX grants_session ON grants (session_id);
CREATE INDEX grants_account ON grants (account_id);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    grant_id   TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);

-- Access tokens are self-contained JWTs; the ones revoked before they expire are listed here.
CREATE TABLE revoked_access_tokens (
    jti        TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
