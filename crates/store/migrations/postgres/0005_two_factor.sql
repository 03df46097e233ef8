-- Two-factor authentication: an authenticator app (TOTP, secret sealed under the master key),
-- single-use recovery codes (SHA-256), and the half-logged-in state between password and
-- second factor, which grants nothing else.

CREATE TABLE totp_credentials (
    account_id   TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    secret       TEXT NOT NULL,
    -- NULL while enrolment waits for the first valid code.
    confirmed_at BIGINT,
    -- The last time step accepted: a code is never accepted twice.
    last_step    BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE recovery_codes (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (account_id, code_hash)
);

CREATE TABLE pending_logins (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_agent TEXT NOT NULL,
    ip         TEXT NOT NULL,
    next_url   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

-- Security keys and passkeys (WebAuthn). The credential is webauthn-rs's serialized passkey
-- (public key, counter, flags): nothing secret.
CREATE TABLE webauthn_credentials (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    passkey       TEXT NOT NULL,
    nickname      TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX webauthn_credentials_account ON webauthn_credentials (account_id);

-- Registration and authentication ceremonies in progress: single-use, short-lived.
CREATE TABLE webauthn_challenges (
    id         TEXT PRIMARY KEY,
    account_id TEXT,
    purpose    TEXT NOT NULL,
    state      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
