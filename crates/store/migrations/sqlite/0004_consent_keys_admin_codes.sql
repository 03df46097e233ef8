-- Third-party consent, private_key_jwt client authentication, admin API tokens, and sealed
-- authorization codes.

-- Codes are sealed envelopes now (nothing is written when one is issued); a redeemed code's
-- hash is remembered for a while so each is used once and a replay revokes its grant.
DROP TABLE authorization_codes;
CREATE TABLE redeemed_codes (
    code_hash  TEXT PRIMARY KEY,
    keep_until INTEGER NOT NULL,
    grant_id   TEXT
);

-- A client authenticating with private_key_jwt has its public keys inline (a JWK Set) or at
-- a URL; it then has no secret.
ALTER TABLE clients ADD COLUMN jwks TEXT;
ALTER TABLE clients ADD COLUMN jwks_uri TEXT;

-- What a person allowed a third-party product to see, remembered per scope set.
CREATE TABLE consents (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, client_id)
);

-- Client assertions (RFC 7523) seen, by client and jti, until they expire: each is single-use.
CREATE TABLE client_assertions (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
);

-- Bearer tokens for the admin API, stored as SHA-256.
CREATE TABLE admin_tokens (
    id           TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    label        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX admin_tokens_account ON admin_tokens (account_id);
